import { identifierProblem } from '../identifier-fold';
import { Inject, Injectable } from '@nestjs/common';
import { Slicer } from '@app/projections/cooperative';
import { EVENT_STORE, type EventStore, StreamNotFoundError, timeOrderedId } from '@app/event-store';
import { type AccountState, evolve } from '../account.decider';
import { AccountWriter } from '../account-writer';
import { occurredAtOf } from '../account.repository';
import { type CommandContext, eventMetadata } from '../event-envelope';
import { InvalidCommand, PreconditionFailed, ResourceNotFound } from '../errors';
import { accountStream } from '../events';
import { decide } from '../account.decider';
import type { SyncContext } from '../membership-sync';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import {
  evolveScimGroup,
  initialScimGroupState,
  type ScimGroupEvent,
  type ScimGroupState,
  scimGroupStream,
} from '../scim-group.events';
import type { ScopeId } from '../scope';
import { type Claim, retryOnConflict, type StreamWrite } from '../unit-of-work';
import type { MemberOp, ScimGroupChange, ScimGroupWriteResult } from './scim-group.commands';

interface LoadedGroup {
  readonly state: ScimGroupState;
  readonly revision: bigint;
}

/**
 * Writes SCIM groups. The group's own stream holds its name and externalId; who is a member
 * is recorded on each member's account stream together with the access that follows, so
 * adding or removing one member touches one account whatever the group's size.
 */
@Injectable()
export class ScimGroupWriter {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly accounts: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async load(groupId: string): Promise<LoadedGroup> {
    try {
      const events = await this.store.readStream(scimGroupStream(groupId));
      let state = initialScimGroupState();
      for (const e of events) state = evolveScimGroup(state, e as unknown as ScimGroupEvent, occurredAtOf(e));
      return { state, revision: events[events.length - 1].revision };
    } catch (err) {
      if (err instanceof StreamNotFoundError) return { state: initialScimGroupState(), revision: -1n };
      throw err;
    }
  }

  async create(
    scope: ScopeId,
    displayName: string,
    externalId: string | undefined,
    members: readonly string[],
    ctx: CommandContext,
  ): Promise<ScimGroupWriteResult> {
    const groupId = timeOrderedId();
    return retryOnConflict(() =>
      this.write(scope, groupId, { state: initialScimGroupState(), revision: -1n }, ctx, undefined, () => ({
        displayName,
        externalId: externalId ?? null,
        memberOps: members.length ? [{ op: 'add', ids: members }] : [],
      })),
    );
  }

  async update(
    scope: ScopeId,
    groupId: string,
    change: (current: ScimGroupState) => ScimGroupChange,
    ctx: CommandContext,
    ifMatch?: bigint,
  ): Promise<ScimGroupWriteResult> {
    return retryOnConflict(
      async () => {
        const loaded = await this.load(groupId);
        if (!loaded.state.exists || loaded.state.deleted || loaded.state.scope !== scope) throw new ResourceNotFound('Group', groupId);
        if (ifMatch !== undefined && ifMatch !== loaded.revision) throw new PreconditionFailed();
        return this.write(scope, groupId, loaded, ctx, ifMatch, change);
      },
      (conflict) => {
        if (ifMatch !== undefined && conflict.streamId === scimGroupStream(groupId)) throw new PreconditionFailed();
      },
    );
  }

  async delete(scope: ScopeId, groupId: string, ctx: CommandContext, ifMatch?: bigint): Promise<void> {
    await retryOnConflict(
      async () => {
        const loaded = await this.load(groupId);
        if (!loaded.state.exists || loaded.state.deleted || loaded.state.scope !== scope) throw new ResourceNotFound('Group', groupId);
        if (ifMatch !== undefined && ifMatch !== loaded.revision) throw new PreconditionFailed();
        await this.write(scope, groupId, loaded, ctx, ifMatch, () => ({ memberOps: [{ op: 'removeAll' }] }), true);
      },
      (conflict) => {
        if (ifMatch !== undefined && conflict.streamId === scimGroupStream(groupId)) throw new PreconditionFailed();
      },
    );
  }

  private async write(
    scope: ScopeId,
    groupId: string,
    loaded: LoadedGroup,
    ctx: CommandContext,
    _ifMatch: bigint | undefined,
    changeOf: (current: ScimGroupState) => ScimGroupChange,
    deleting = false,
  ): Promise<ScimGroupWriteResult> {
    const change = changeOf(loaded.state);
    const now = this.accounts.now();
    const groupEvents: ScimGroupEvent[] = [];
    const claims: Claim[] = [];
    const releases: Claim[] = [];
    const owner = { stream: scimGroupStream(groupId), id: groupId };
    const state = loaded.state;

    if (!state.exists) {
      const displayName = requireDisplayName(change.displayName);
      groupEvents.push({
        type: 'ScimGroupCreated',
        data: { groupId, scope, displayName, ...(change.externalId ? { externalId: change.externalId } : {}) },
      });
      claims.push({ kind: 'displayName', scopeKey: scope, value: displayName, owner });
    } else {
      if (change.displayName !== undefined && change.displayName !== state.displayName) {
        const to = requireDisplayName(change.displayName);
        groupEvents.push({ type: 'ScimGroupRenamed', data: { groupId, scope, from: state.displayName, to } });
        if (to.toLowerCase() !== state.displayName.toLowerCase()) {
          claims.push({ kind: 'displayName', scopeKey: scope, value: to, owner });
          releases.push({ kind: 'displayName', scopeKey: scope, value: state.displayName, owner });
        }
      }
      const externalId = change.externalId === null ? undefined : change.externalId;
      if (change.externalId !== undefined && externalId !== state.externalId) {
        groupEvents.push({
          type: 'ScimGroupExternalIdChanged',
          data: { groupId, scope, ...(state.externalId ? { from: state.externalId } : {}), ...(externalId ? { to: externalId } : {}) },
        });
      }
      if (deleting) {
        groupEvents.push({ type: 'ScimGroupDeleted', data: { groupId, scope, displayName: state.displayName } });
        releases.push({ kind: 'displayName', scopeKey: scope, value: state.displayName, owner });
      }
    }
    const after = groupEvents.reduce((s, e) => evolveScimGroup(s, e, now), state);

    const { add, remove } = await this.resolveMembers(groupId, state.exists, change.memberOps);
    const liveAdds = await this.directory.liveIdentities(scope, add);
    const first = add.findIndex((id) => !liveAdds.has(id));
    if (first >= 0) {
      // Counted and placed, never echoed: an IdP may send an email or a name as a member value.
      const unknown = add.filter((id) => !liveAdds.has(id)).length;
      throw new InvalidCommand(
        `${unknown} of the ${add.length} members added ${unknown === 1 ? 'does' : 'do'} not refer to a user in this scope (the first is number ${first + 1} of the members added)`,
        'members',
      );
    }
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

    const links = perAccount.size > 0 || groupEvents.some((e) => e.type === 'ScimGroupRenamed') ? await this.directory.links() : [];
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
      writes.unshift({
        streamId: scimGroupStream(groupId),
        expectedRevision: loaded.revision < 0n ? 'no_stream' : loaded.revision,
        events: groupEvents,
      });
    }
    if (writes.length > 0) {
      await this.accounts.uow.commit({ writes, claims, releases, metadata: eventMetadata(ctx, scope, now) });
      for (const a of accountStates) this.accounts.repository.remember(a.accountId, { state: a.state, revision: a.revision });
    }
    if (groupEvents.some((e) => e.type === 'ScimGroupRenamed')) {
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
      await retryOnConflict(async () => {
        const loaded = await this.accounts.repository.load(accountId);
        const sync = await this.syncContext(loaded.state, groupId, group, links);
        const command = { type: 'ResyncMemberships', now: this.accounts.now(), sync, cause: `scim group ${groupId} renamed` } as const;
        await this.accounts.execute({ accountId, loaded, command, ctx, scope });
      });
    }
  }

  /** The add and remove sets the operations amount to, in order, without loading members unless needed. */
  private async resolveMembers(groupId: string, exists: boolean, ops: readonly MemberOp[]) {
    const needsAll = exists && ops.some((o) => o.op === 'removeAll' || o.op === 'replace');
    const current = new Set(needsAll ? await this.directory.scimGroupMembers(groupId) : []);
    const add = new Set<string>();
    const remove = new Set<string>();
    for (const op of ops) {
      if (op.op === 'add') {
        for (const id of op.ids) {
          remove.delete(id);
          add.add(id);
        }
      } else if (op.op === 'remove') {
        for (const id of op.ids) {
          add.delete(id);
          remove.add(id);
        }
      } else {
        const keep = new Set(op.op === 'replace' ? op.ids : []);
        for (const id of [...current, ...add]) if (!keep.has(id)) remove.add(id);
        add.clear();
        for (const id of keep) {
          remove.delete(id);
          add.add(id);
        }
      }
    }
    return { add: [...add], remove: [...remove] };
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

function requireDisplayName(name: string | undefined): string {
  if (typeof name !== 'string' || name.trim() === '') throw new InvalidCommand('displayName is required', 'displayName');
  if (name.length > 255) throw new InvalidCommand('displayName is longer than 255 characters', 'displayName');
  const problem = identifierProblem(name, { allowIgnorable: true });
  if (problem !== undefined) throw new InvalidCommand(`displayName ${problem}`, 'displayName');
  return name;
}
