import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, StreamNotFoundError, timeOrderedId } from '@app/event-store';
import {
  CLOCK,
  type Clock,
  type CommandContext,
  eventMetadata,
  groupScope,
  IDENTITY_DIRECTORY,
  type IdentityDirectory,
  InvalidCommand,
  ResourceNotFound,
  runCommand,
  type ScopeId,
  UnitOfWork,
} from '@app/identity';
import { type IssuedScimToken, IssueManagementTokenCommand, IssueScimTokenCommand, type IssuedToken, RevokeTokenCommand, type ScimTokenTarget } from './token.commands';
import { decide, evolve as evolveToken, initialState, type TokenDecidedEvent, type TokenState } from './token.decider';
import { tokenEvents, tokenStream } from './token.events';
import { generateSecret, MANAGEMENT_TOKEN_PREFIX, SCIM_TOKEN_PREFIX, sha256Hex } from './token-secret';

/** Loads a token's stream, asks the token decider, appends: the one write path of the three handlers. */
class TokenStreams {
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  now(): string {
    return this.clock.now().toISOString();
  }

  async load(tokenId: string): Promise<{ state: TokenState; revision: bigint }> {
    try {
      const events = await this.store.readStream(tokenStream(tokenId));
      const state = tokenEvents.decodeAll(events).reduce(evolveToken, initialState());
      return { state, revision: events[events.length - 1].revision };
    } catch (err) {
      if (err instanceof StreamNotFoundError) return { state: initialState(), revision: -1n };
      throw err;
    }
  }

  async append(tokenId: string, revision: bigint, events: readonly TokenDecidedEvent[], ctx: CommandContext, scope: ScopeId | 'instance', now: string) {
    return new UnitOfWork(this.store, () => this.clock.now()).commit({
      writes: [{ streamId: tokenStream(tokenId), expectedRevision: revision < 0n ? 'no_stream' : revision, events }],
      metadata: eventMetadata(ctx, scope, now),
    });
  }
}

@CommandHandler(IssueScimTokenCommand)
export class IssueScimTokenHandler implements ICommandHandler<IssueScimTokenCommand> {
  private readonly tokens: TokenStreams;
  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) clock: Clock,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {
    this.tokens = new TokenStreams(store, clock);
  }

  async execute(c: IssueScimTokenCommand): Promise<IssuedScimToken> {
    const { scope, groupPath } = await this.scopeOf(c.target);
    const id = timeOrderedId();
    const secret = generateSecret(SCIM_TOKEN_PREFIX);
    const now = this.tokens.now();
    const events = decide(
      {
        type: 'IssueScimToken',
        tokenId: id,
        scope,
        sha256: sha256Hex(secret),
        ...(c.name ? { name: c.name } : {}),
        ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}),
        now,
      },
      initialState(),
    );
    const r = await this.tokens.append(id, -1n, events, c.ctx, scope, now);
    return { id, secret, position: r.position, ...(groupPath !== undefined ? { groupPath } : {}) };
  }

  /** SCIM tokens serve the instance or a top-level group (GitLab.com's group SCIM); never a subgroup. */
  private async scopeOf(target: ScimTokenTarget): Promise<{ scope: ScopeId; groupPath?: string }> {
    if (target.scope === 'application') return { scope: 'application' };
    if (!target.groupPath) throw new InvalidCommand('groupPath is required for a group scope token', 'groupPath');
    const group = await this.directory.groupByPath(target.groupPath);
    if (!group) throw new ResourceNotFound('Group', target.groupPath);
    if (group.parentId !== undefined) throw new InvalidCommand('SCIM tokens belong to top-level groups; use the top-level group path', 'groupPath');
    return { scope: groupScope(group.id), groupPath: group.fullPath };
  }
}

@CommandHandler(IssueManagementTokenCommand)
export class IssueManagementTokenHandler implements ICommandHandler<IssueManagementTokenCommand> {
  private readonly tokens: TokenStreams;
  constructor(@Inject(EVENT_STORE) store: EventStore, @Inject(CLOCK) clock: Clock) {
    this.tokens = new TokenStreams(store, clock);
  }

  async execute(c: IssueManagementTokenCommand): Promise<IssuedToken> {
    const id = timeOrderedId();
    const secret = c.options.secret ?? generateSecret(MANAGEMENT_TOKEN_PREFIX);
    const now = this.tokens.now();
    const events = decide(
      {
        type: 'IssueManagementToken',
        tokenId: id,
        role: c.role,
        sha256: sha256Hex(secret),
        ...(c.options.name ? { name: c.options.name } : {}),
        ...(c.options.expiresAt ? { expiresAt: c.options.expiresAt } : {}),
        ...(c.options.pii !== undefined ? { pii: c.options.pii } : {}),
        ...(c.options.bootstrap ? { bootstrap: true } : {}),
        now,
      },
      initialState(),
    );
    const r = await this.tokens.append(id, -1n, events, c.ctx, 'instance', now);
    return { id, secret, position: r.position };
  }
}

@CommandHandler(RevokeTokenCommand)
export class RevokeTokenHandler implements ICommandHandler<RevokeTokenCommand> {
  private readonly tokens: TokenStreams;
  constructor(@Inject(EVENT_STORE) store: EventStore, @Inject(CLOCK) clock: Clock) {
    this.tokens = new TokenStreams(store, clock);
  }

  async execute(c: RevokeTokenCommand): Promise<void> {
    await runCommand(undefined, async () => {
      const loaded = await this.tokens.load(c.tokenId);
      const now = this.tokens.now();
      const events = decide({ type: 'RevokeToken', tokenId: c.tokenId, kind: c.kind, now }, loaded.state);
      if (events.length === 0) return;
      await this.tokens.append(c.tokenId, loaded.revision, events, c.ctx, (loaded.state.scope as ScopeId | undefined) ?? 'instance', now);
    });
  }
}
