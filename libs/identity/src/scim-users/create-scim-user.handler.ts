import { timeOrderedId } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AccountState } from '../account.decider';
import { AccountWriter } from '../account-writer';
import { runCommand } from '../command-runner';
import { primaryEmail } from '../document';
import { UniquenessViolation } from '../errors';
import { accountStream } from '../events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import type { ReservationMemo } from '../unit-of-work';
import { CreateScimUserCommand } from './create-scim-user.command';
import { matchScimUser, type ScimUserHolder, type ScimUserPost } from './match-scim-user.policy';
import type { ScimUserWriteResult } from './scim-user.result';
import { loadScopeContext, readScopeGroup, type ScopeGroup } from './scope-context';
import { deriveUsername } from './username';

/**
 * POST /Users: loads what the store knows about the POSTed values, lets `matchScimUser`
 * (match-scim-user.policy.ts, where the conflict / revive / link / provision rules live)
 * choose, and runs the account command it names.
 */
@CommandHandler(CreateScimUserCommand)
export class CreateScimUserHandler implements ICommandHandler<CreateScimUserCommand> {
  constructor(
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  execute(command: CreateScimUserCommand): Promise<ScimUserWriteResult> {
    return runCommand(undefined, () => this.attempt(command));
  }

  private async attempt(command: CreateScimUserCommand): Promise<ScimUserWriteResult> {
    const { scope, attributes } = command;
    // Reservations read while deciding are read once more by the commit; share them.
    const memo: ReservationMemo = new Map();
    const post: ScimUserPost = {
      scope,
      userName: attributes.userName as string,
      ...(typeof attributes.externalId === 'string' ? { externalId: attributes.externalId } : {}),
      ...(primaryEmail(attributes) !== undefined ? { email: primaryEmail(attributes) } : {}),
    };
    const { userName, externalId, email } = post;
    // Every reservation a plain create looks at, read in one go rather than one after another.
    await this.writer.uow.prefetchReservations(
      [
        ...(externalId !== undefined ? [{ kind: 'nameId' as const, scopeKey: scope, value: externalId }] : []),
        { kind: 'userName', scopeKey: scope, value: userName },
        ...(email !== undefined ? [{ kind: 'email' as const, scopeKey: 'instance', value: email }] : []),
        { kind: 'username', scopeKey: 'instance', value: deriveUsername(userName) },
      ],
      memo,
    );
    const [externalIdHolder, userNameHolder, emailHolder, scopeGroup] = await Promise.all([
      externalId !== undefined ? this.holder('nameId', scope, externalId, memo) : undefined,
      this.holder('userName', scope, userName, memo),
      email !== undefined ? this.writer.uow.reservation({ kind: 'email', scopeKey: 'instance', value: email }, memo) : undefined,
      readScopeGroup(this.directory, scope),
    ]);

    const match = matchScimUser(post, {
      ...(externalIdHolder ? { externalIdHolder } : {}),
      ...(userNameHolder ? { userNameHolder } : {}),
      ...(emailHolder?.holder ? { emailHolder: { accountId: emailHolder.holder.id } } : {}),
      ...(scopeGroup.group ? { verifiedDomains: scopeGroup.group.verifiedDomains } : {}),
    });
    switch (match.kind) {
      case 'conflict':
        throw match.error;
      case 'revive':
        return this.revive(command, match.accountId, match.identityId, scopeGroup);
      case 'link':
        return this.link(command, match.accountId, scopeGroup);
      case 'provision':
        return this.provision(command, memo, scopeGroup);
    }
  }

  private async provision(command: CreateScimUserCommand, memo: ReservationMemo, scopeGroup: ScopeGroup): Promise<ScimUserWriteResult> {
    const accountId = timeOrderedId();
    const identityId = timeOrderedId();
    const base = deriveUsername(command.attributes.userName as string);
    const { reprovision } = await loadScopeContext(this.directory, command.scope, undefined, scopeGroup);
    for (let n = 0; ; n++) {
      const username = n === 0 ? base : `${base}${n}`;
      const taken = await this.writer.uow.reservation({ kind: 'username', scopeKey: 'instance', value: username }, memo);
      if (taken.holder) continue;
      try {
        const result = await this.writer.execute({
          accountId,
          loaded: { state: { ...emptyAccount(), id: accountId }, revision: -1n },
          command: {
            type: 'ProvisionUser',
            now: this.writer.now(),
            accountId,
            identityId,
            scope: command.scope,
            username,
            attributes: command.attributes,
            active: command.active,
            reprovision,
          },
          ctx: command.ctx,
          scope: command.scope,
          memo,
        });
        return { account: result.state, identity: result.state.identities[identityId], revision: result.revision, revived: false };
      } catch (err) {
        // Another account took this username between our look-up and our commit.
        if (err instanceof UniquenessViolation && err.kind === 'username' && n < 1000) continue;
        throw err;
      }
    }
  }

  private async link(command: CreateScimUserCommand, accountId: string, scopeGroup: ScopeGroup): Promise<ScimUserWriteResult> {
    const loaded = await this.writer.repository.load(accountId);
    const { reprovision } = await loadScopeContext(this.directory, command.scope, undefined, scopeGroup);
    const identityId = timeOrderedId();
    const result = await this.writer.execute({
      accountId,
      loaded,
      command: {
        type: 'LinkIdentity',
        now: this.writer.now(),
        identityId,
        scope: command.scope,
        attributes: command.attributes,
        active: command.active,
        reason: 'email_match',
        reprovision,
      },
      ctx: command.ctx,
      scope: command.scope,
    });
    return { account: result.state, identity: result.state.identities[identityId], revision: result.revision, revived: false };
  }

  private async revive(
    command: CreateScimUserCommand,
    accountId: string,
    identityId: string,
    scopeGroup: ScopeGroup,
  ): Promise<ScimUserWriteResult> {
    const loaded = await this.writer.repository.load(accountId);
    const context = await loadScopeContext(this.directory, command.scope, loaded.state, scopeGroup);
    const result = await this.writer.execute({
      accountId,
      loaded,
      command: {
        type: 'UpdateIdentity',
        now: this.writer.now(),
        identityId,
        attributes: command.attributes,
        active: command.active,
        revive: true,
        ...context,
      },
      ctx: command.ctx,
      scope: command.scope,
    });
    return { account: result.state, identity: result.state.identities[identityId], revision: result.revision, revived: true };
  }

  /** The identity holding a unique value in this scope, from the reservation (not a projection). */
  private async holder(kind: 'nameId' | 'userName', scope: string, value: string, memo: ReservationMemo): Promise<ScimUserHolder | undefined> {
    const reservation = await this.writer.uow.reservation({ kind, scopeKey: scope, value }, memo);
    if (!reservation.holder) return undefined;
    const accountId = reservation.holder.stream.slice('account-'.length);
    if (reservation.holder.stream !== accountStream(accountId)) return undefined;
    const { state } = await this.writer.repository.load(accountId);
    const identity = state.identities[reservation.holder.id];
    // An orphaned reservation (its account never written) holds nothing yet; the commit's
    // claim decides, and takes it over once it is old enough.
    return identity ? { accountId, identity } : undefined;
  }
}

function emptyAccount(): AccountState {
  return { exists: false, id: '', username: '', blocked: false, identities: {}, memberships: {} };
}
