import { timeOrderedId } from '@app/event-store';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AccountState, IdentityState } from '../account.decider';
import { AccountWriter } from '../account-writer';
import { primaryEmail } from '../document';
import { UniquenessViolation } from '../errors';
import { accountStream } from '../events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { foldValue } from '../reservations';
import { scopeGroupId } from '../scope';
import { type ReservationMemo, retryOnConflict, uniquenessDetail } from '../unit-of-work';
import { CreateScimUserCommand } from './create-scim-user.command';
import type { ScimUserWriteResult } from './scim-user.result';
import { deprovisionContext, reprovisionContext, syncContext } from './scope-context';
import { deriveUsername } from './username';

/**
 * POST /Users with the lifecycle rules of 10-domain.md: 409 when an active identity holds
 * the userName or externalId; an inactive identity with the same externalId (or, failing
 * that, the same userName and no externalId) is brought back with the same SCIM id; an
 * account with the same email is linked (group scope: only for a verified domain);
 * otherwise a new account is provisioned.
 */
@CommandHandler(CreateScimUserCommand)
export class CreateScimUserHandler implements ICommandHandler<CreateScimUserCommand> {
  constructor(
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  execute(command: CreateScimUserCommand): Promise<ScimUserWriteResult> {
    return retryOnConflict(() => this.attempt(command));
  }

  private async attempt(command: CreateScimUserCommand): Promise<ScimUserWriteResult> {
    const { scope, attributes } = command;
    // Reservations read while deciding are read once more by the commit; share them.
    const memo: ReservationMemo = new Map();
    const userName = attributes.userName as string;
    const externalId = typeof attributes.externalId === 'string' ? attributes.externalId : undefined;
    const email = primaryEmail(attributes);
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

    if (externalId !== undefined) {
      const held = await this.holder('nameId', scope, externalId, memo);
      if (held) {
        const { identity } = held;
        const sameExternalId = identity.externalId !== undefined && foldValue(identity.externalId) === foldValue(externalId);
        if (!sameExternalId || isLive(identity)) throw new UniquenessViolation('nameId', uniquenessDetail('nameId'), identity.id);
        const byUserName = await this.holder('userName', scope, userName, memo);
        if (byUserName && byUserName.identity.id !== identity.id) {
          throw new UniquenessViolation('userName', uniquenessDetail('userName'), byUserName.identity.id);
        }
        return this.revive(command, held.accountId, identity);
      }
    }

    const byUserName = await this.holder('userName', scope, userName, memo);
    if (byUserName) {
      const { identity } = byUserName;
      if (isLive(identity)) throw new UniquenessViolation('userName', uniquenessDetail('userName'), identity.id);
      if (externalId !== undefined && identity.externalId !== undefined) {
        // Same userName, different externalId: a different person. Support may relink.
        throw new UniquenessViolation(
          'userName',
          'userName is held by an inactive identity with a different externalId in this scope',
          identity.id,
        );
      }
      return this.revive(command, byUserName.accountId, identity);
    }

    if (email !== undefined) {
      const owner = await this.writer.uow.reservation({ kind: 'email', scopeKey: 'instance', value: email }, memo);
      if (owner.holder) return this.link(command, owner.holder.id, email);
    }
    return this.provision(command, memo);
  }

  private async provision(command: CreateScimUserCommand, memo: ReservationMemo): Promise<ScimUserWriteResult> {
    const accountId = timeOrderedId();
    const identityId = timeOrderedId();
    const base = deriveUsername(command.attributes.userName as string);
    const reprovision = await reprovisionContext(this.directory, command.scope);
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

  private async link(command: CreateScimUserCommand, accountId: string, email: string): Promise<ScimUserWriteResult> {
    const groupId = scopeGroupId(command.scope);
    if (groupId !== undefined) {
      const group = await this.directory.group(groupId);
      const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
      if (!group?.verifiedDomains.some((d) => d.toLowerCase() === domain)) {
        throw new UniquenessViolation(
          'email',
          'An account with this email already exists and its domain is not verified by this group; an administrator or support must link it',
        );
      }
    }
    const loaded = await this.writer.repository.load(accountId);
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
        reprovision: await reprovisionContext(this.directory, command.scope),
      },
      ctx: command.ctx,
      scope: command.scope,
    });
    return { account: result.state, identity: result.state.identities[identityId], revision: result.revision, revived: false };
  }

  private async revive(command: CreateScimUserCommand, accountId: string, identity: IdentityState): Promise<ScimUserWriteResult> {
    const loaded = await this.writer.repository.load(accountId);
    const result = await this.writer.execute({
      accountId,
      loaded,
      command: {
        type: 'UpdateIdentity',
        now: this.writer.now(),
        identityId: identity.id,
        attributes: command.attributes,
        active: command.active,
        revive: true,
        deprovision: await deprovisionContext(this.directory, command.scope, accountId),
        reprovision: await reprovisionContext(this.directory, command.scope),
        sync: await syncContext(this.directory, loaded.state),
      },
      ctx: command.ctx,
      scope: command.scope,
    });
    return { account: result.state, identity: result.state.identities[identity.id], revision: result.revision, revived: true };
  }

  /** The identity holding a unique value in this scope, from the reservation (not a projection). */
  private async holder(kind: 'nameId' | 'userName', scope: string, value: string, memo: ReservationMemo) {
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

function isLive(identity: IdentityState): boolean {
  return identity.active && !identity.deleted;
}

function emptyAccount(): AccountState {
  return { exists: false, id: '', username: '', blocked: false, identities: {}, memberships: {} };
}
