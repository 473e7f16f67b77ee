import { Inject, Injectable } from '@nestjs/common';
import { Slicer } from '@app/projections';
import { EVENT_STORE, type EventStore, StreamNotFoundError } from '@app/event-store';
import { type AccountState, evolve } from '../account.decider';
import { AccountWriter } from '../account-writer';
import { runCommand } from '../command-runner';
import { type CommandContext, eventMetadata } from '../event-envelope';
import { accountStream } from '../events';
import { decide } from '../account.decider';
import type { SyncContext } from '../membership-sync';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { scimGroupEvents, scimGroupStream } from '../scim-group.events';
import type { ScopeId } from '../scope';
import type { Claim, StreamWrite } from '../unit-of-work';
import type { MemberOp, ScimGroupWriteResult } from './scim-group.commands';
import {
  displayNameReservations,
  evolve as evolveScimGroup,
  initialState as initialScimGroupState,
  memberChanges,
  needsCurrentMembers,
  requireLiveMembers,
  type ScimGroupDecidedEvent,
  type ScimGroupState,
} from './scim-group.decider';

export interface LoadedScimGroup {
  readonly state: ScimGroupState;
  /** Stream revision the state was folded up to; -1n when the stream does not exist. */
  readonly revision: bigint;
}

/**
 * Loads SCIM groups and appends what their decider decided, together with what it does to
 * the members. The group's own stream holds its name and externalId; who is a member is
 * recorded on each member's account stream together with the access that follows, so adding
 * or removing one member touches one account whatever the group's size. The rules are in
 * `scim-group.decider.ts` (the group) and the account decider (a member's access); this
 * class only loads, asks them and appends.
 */
@Injectable()
export class ScimGroupWriter {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly accounts: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  /** The time of a decision, from the CLOCK port. */
  now(): string {
    return this.accounts.now();
  }

  async load(groupId: string): Promise<LoadedScimGroup> {
    try {
      const events = await this.store.readStream(scimGroupStream(groupId));
      const state = scimGroupEvents.decodeAll(events).reduce(evolveScimGroup, initialScimGroupState());
      return { state, revision: events[events.length - 1].revision };
    } catch (err) {
      if (err instanceof StreamNotFoundError) return { state: initialScimGroupState(), revision: -1n };
      throw err;
    }
  }

  /**
   * Appends the group's events and the member changes `memberOps` amount to, in one commit.
   * `deleting` names the cause the members' accounts record.
   */
  async write(
    scope: ScopeId,
    groupId: string,
    loaded: LoadedScimGroup,
    groupEvents: readonly ScimGroupDecidedEvent[],
    memberOps: readonly MemberOp[],
    ctx: CommandContext,
    now: string,
    deleting = false,
  ): Promise<ScimGroupWriteResult> {
    const state = loaded.state;
    const after = groupEvents.reduce(evolveScimGroup, state);
    const owner = { stream: scimGroupStream(groupId), id: groupId };
    const reservations = displayNameReservations(state, after);
    const claims: Claim[] = reservations.claim !== undefined ? [{ kind: 'displayName', scopeKey: scope, value: reservations.claim, owner }] : [];
    const releases: Claim[] = reservations.release !== undefined ? [{ kind: 'displayName', scopeKey: scope, value: reservations.release, owner }] : [];
    const renamed = groupEvents.some((e) => e.type === 'ScimGroupRenamed');

    const current = needsCurrentMembers(state, memberOps) ? await this.directory.scimGroupMembers(groupId) : [];
    const { add, remove } = memberChanges(memberOps, current);
    const liveAdds = await this.directory.liveIdentities(scope, add);
    requireLiveMembers(add, liveAdds);
    const removeAccounts = await this.directory.accountsOfIdentities(remove);
    const perAccount = new Map<string, { add: string[]; remove: string[] }>();
    const entry = (accountId: string) => {
      let e = perAccount.get(accountId);
      if (!e) perAccount.set(accountId, (e = { add: [], remove: [] }));
      return e;
    };
    for (const id of add) entry(liveAdds.get(id) as string).add.push(id);
    for (const id of remove) {
      const accountId = removeAccounts.get(id);
      if (accountId) entry(accountId).remove.push(id);
    }

    const links = perAccount.size > 0 || renamed ? await this.directory.links() : [];
    const writes: StreamWrite[] = [];
    const accountStates: { accountId: string; state: AccountState; revision: bigint }[] = [];
    const cause = deleting ? `scim group ${groupId} deleted` : `scim group ${groupId} membership`;
    // One account per member: tens of thousands for a big group's PUT or DELETE. Preparing them
    // yields between slices so other tenants are served meanwhile; the write stays one atomic
    // append, guarded by every stream's expected revision (a change in between is a conflict).
    const slicer = new Slicer();
    for (const [accountId, ops] of perAccount) {
      await slicer.maybeYield();
      const account = await this.accounts.repository.load(accountId);
      const sync = await this.syncContext(account.state, groupId, after, links);
      const events = decide(
        { type: 'ChangeScimGroupMembers', now, groupId, scope, add: ops.add, remove: ops.remove, sync, cause },
        account.state,
      );
      if (events.length === 0) continue;
      writes.push({ streamId: accountStream(accountId), expectedRevision: account.revision, events });
      accountStates.push({
        accountId,
        state: events.reduce(evolve, account.state),
        revision: account.revision + BigInt(events.length),
      });
    }
    if (groupEvents.length > 0) {
      writes.unshift({ streamId: scimGroupStream(groupId), expectedRevision: loaded.revision < 0n ? 'no_stream' : loaded.revision, events: groupEvents });
    }
    if (writes.length > 0) {
      await this.accounts.uow.commit({ writes, claims, releases, metadata: eventMetadata(ctx, scope, now) });
      for (const a of accountStates) this.accounts.repository.remember(a.accountId, { state: a.state, revision: a.revision });
    }
    if (renamed) {
      // A new name matches other SAML group links: every member's access is recomputed.
      await this.resyncMembers(groupId, after, links, new Set(perAccount.keys()), ctx, scope);
    }
    return { group: after, revision: loaded.revision + BigInt(groupEvents.length) };
  }

  private async resyncMembers(
    groupId: string,
    group: ScimGroupState,
    links: SyncContext['links'],
    done: ReadonlySet<string>,
    ctx: CommandContext,
    scope: ScopeId,
  ): Promise<void> {
    const members = await this.directory.scimGroupMembers(groupId);
    const accounts = await this.directory.accountsOfIdentities(members);
    const slicer = new Slicer();
    for (const accountId of new Set(accounts.values())) {
      if (done.has(accountId)) continue;
      await slicer.maybeYield();
      await runCommand(undefined, async () => {
        const loaded = await this.accounts.repository.load(accountId);
        const sync = await this.syncContext(loaded.state, groupId, group, links);
        const command = { type: 'ResyncMemberships', now: this.accounts.now(), sync, cause: `scim group ${groupId} renamed` } as const;
        await this.accounts.execute({ accountId, loaded, command, ctx, scope });
      });
    }
  }

  private async syncContext(account: AccountState, groupId: string, group: ScimGroupState, links: SyncContext['links']): Promise<SyncContext> {
    const ids = new Set<string>();
    for (const identity of Object.values(account.identities)) for (const g of identity.scimGroups) ids.add(g);
    ids.delete(groupId);
    const scimGroups = { ...(await this.directory.scimGroupInfo([...ids])) };
    if (!group.deleted && group.scope) scimGroups[groupId] = { displayName: group.displayName, scope: group.scope };
    return { scimGroups, links };
  }
}
