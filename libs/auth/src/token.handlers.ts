import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, StreamNotFoundError, timeOrderedId } from '@app/event-store';
import { CLOCK, type Clock, eventMetadata, ResourceNotFound, UnitOfWork } from '@app/identity';
import { IssueManagementTokenCommand, IssueScimTokenCommand, type IssuedToken, RevokeTokenCommand } from './token.commands';
import { type TokenEvent, tokenStream } from './token.events';
import { generateSecret, MANAGEMENT_TOKEN_PREFIX, SCIM_TOKEN_PREFIX, sha256Hex } from './token-secret';

@CommandHandler(IssueScimTokenCommand)
export class IssueScimTokenHandler implements ICommandHandler<IssueScimTokenCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(c: IssueScimTokenCommand): Promise<IssuedToken> {
    const id = timeOrderedId();
    const secret = generateSecret(SCIM_TOKEN_PREFIX);
    const event: TokenEvent = {
      type: 'ScimTokenIssued',
      data: { tokenId: id, scope: c.scope, sha256: sha256Hex(secret), ...(c.name ? { name: c.name } : {}), ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}) },
    };
    const r = await new UnitOfWork(this.store, () => this.clock.now()).commit({
      writes: [{ streamId: tokenStream(id), expectedRevision: 'no_stream', events: [event] }],
      metadata: eventMetadata(c.ctx, c.scope as 'application', this.clock.now().toISOString()),
    });
    return { id, secret, position: r.position };
  }
}

@CommandHandler(IssueManagementTokenCommand)
export class IssueManagementTokenHandler implements ICommandHandler<IssueManagementTokenCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(c: IssueManagementTokenCommand): Promise<IssuedToken> {
    const id = timeOrderedId();
    const secret = c.options.secret ?? generateSecret(MANAGEMENT_TOKEN_PREFIX);
    const event: TokenEvent = {
      type: 'ManagementTokenIssued',
      data: {
        tokenId: id,
        role: c.role,
        sha256: sha256Hex(secret),
        pii: c.options.pii === true,
        ...(c.options.name ? { name: c.options.name } : {}),
        ...(c.options.expiresAt ? { expiresAt: c.options.expiresAt } : {}),
        ...(c.options.bootstrap ? { bootstrap: true } : {}),
      },
    };
    const r = await new UnitOfWork(this.store, () => this.clock.now()).commit({
      writes: [{ streamId: tokenStream(id), expectedRevision: 'no_stream', events: [event] }],
      metadata: eventMetadata(c.ctx, 'instance', this.clock.now().toISOString()),
    });
    return { id, secret, position: r.position };
  }
}

@CommandHandler(RevokeTokenCommand)
export class RevokeTokenHandler implements ICommandHandler<RevokeTokenCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(c: RevokeTokenCommand): Promise<void> {
    let events;
    try {
      events = await this.store.readStream(tokenStream(c.tokenId));
    } catch (err) {
      if (err instanceof StreamNotFoundError) throw new ResourceNotFound('Token', c.tokenId);
      throw err;
    }
    const issued = events[0];
    const kind = issued.type === 'ScimTokenIssued' ? 'scim' : 'management';
    if (kind !== c.kind) throw new ResourceNotFound('Token', c.tokenId);
    if (events.some((e) => e.type.endsWith('Revoked'))) return;
    const data = issued.data as { scope?: string; role?: 'admin' | 'support' | 'auditor' };
    const event: TokenEvent =
      kind === 'scim'
        ? { type: 'ScimTokenRevoked', data: { tokenId: c.tokenId, scope: data.scope ?? '' } }
        : { type: 'ManagementTokenRevoked', data: { tokenId: c.tokenId, role: data.role ?? 'admin' } };
    await new UnitOfWork(this.store, () => this.clock.now()).commit({
      writes: [{ streamId: tokenStream(c.tokenId), expectedRevision: events[events.length - 1].revision, events: [event] }],
      metadata: eventMetadata(c.ctx, (data.scope as 'application' | undefined) ?? 'instance', this.clock.now().toISOString()),
    });
  }
}
