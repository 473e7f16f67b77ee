import type { EventStore } from '@app/event-store';
import type { GroupInfo, IdentityDirectory, LinkRule, ScopeId } from '@app/identity';
import { type ProjectionRunner, type ReadYourWrites, Slicer } from '@app/projections';
import type { AccountsHandle } from './accounts.projection';
import type { GroupsHandle } from './groups.projection';
import type { ScimGroupsHandle } from './scim-groups.projection';
import type { ScimUsersHandle } from './scim-users.projection';

/**
 * The write side's look-ups, answered from the read models after read-your-writes has
 * settled. A miss is answered only after the projections have also caught up with the
 * store's head, so an identity another instance created a moment ago is still found.
 */
export class ReadModelDirectory implements IdentityDirectory {
  constructor(
    private readonly store: EventStore,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  private get users() {
    return this.runner.handle<ScimUsersHandle>('scim-users');
  }
  private get groups() {
    return this.runner.handle<GroupsHandle>('groups');
  }
  private get scimGroups() {
    return this.runner.handle<ScimGroupsHandle>('scim-groups');
  }
  private get accounts() {
    return this.runner.handle<AccountsHandle>('accounts');
  }

  async findIdentity(scope: ScopeId, identityId: string): Promise<{ accountId: string } | undefined> {
    const hit = await this.lookUp(() => {
      const row = this.users.findIdentity(identityId);
      return row && row.scope === scope ? row : undefined;
    });
    return hit ? { accountId: hit.accountId } : undefined;
  }

  async group(groupId: string): Promise<GroupInfo | undefined> {
    return this.lookUp(() => this.groups.byId(groupId));
  }

  async groupByPath(fullPath: string): Promise<GroupInfo | undefined> {
    return this.lookUp(() => this.groups.byPath(fullPath));
  }

  async hierarchy(topLevelGroupId: string): Promise<string[]> {
    await this.ryw.settle();
    return this.groups.hierarchy(topLevelGroupId);
  }

  async soleOwnerGroups(accountId: string, groupIds: readonly string[]): Promise<string[]> {
    await this.ryw.settle();
    return this.accounts.soleOwnerGroups(accountId, groupIds);
  }

  async scimGroupMembers(scimGroupId: string): Promise<string[]> {
    await this.ryw.settle();
    return this.scimGroups.members(scimGroupId).map((m) => m.identityId);
  }

  async liveIdentities(scope: ScopeId, identityIds: readonly string[]): Promise<Map<string, string>> {
    await this.ryw.settle();
    const live = (id: string) => {
      const row = this.users.findIdentity(id);
      return row && row.scope === scope && !row.deleted ? row.accountId : undefined;
    };
    const found = await this.lookUpEach(identityIds, live);
    if (found.size < identityIds.length) {
      // Catch up with the head once before calling an id unknown (another instance's write).
      const head = await this.store.headPosition();
      if (this.runner.position < head && (await this.runner.waitFor(head, 2000))) return this.lookUpEach(identityIds, live);
    }
    return found;
  }

  async accountsOfIdentities(identityIds: readonly string[]): Promise<Map<string, string>> {
    await this.ryw.settle();
    return this.lookUpEach(identityIds, (id) => this.users.findIdentity(id)?.accountId);
  }

  /**
   * One look-up per id, in slices: a group write names up to every member of a big group, and
   * tens of thousands of synchronous reads in one go would stall every other tenant. Yielding
   * between slices adds no new race: which account an identity belongs to never changes, and
   * an identity deleted during the look-up is the same race as one deleted just after it.
   */
  private async lookUpEach(identityIds: readonly string[], look: (id: string) => string | undefined): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const slicer = new Slicer();
    for (let i = 0; i < identityIds.length; i++) {
      const accountId = look(identityIds[i]);
      if (accountId !== undefined) found.set(identityIds[i], accountId);
      if ((i & 63) === 63) await slicer.maybeYield();
    }
    return found;
  }

  async scimGroupInfo(scimGroupIds: readonly string[]): Promise<Record<string, { displayName: string; scope: ScopeId }>> {
    await this.ryw.settle();
    const out: Record<string, { displayName: string; scope: ScopeId }> = {};
    for (const g of this.scimGroups.byIds(scimGroupIds)) out[g.id] = { displayName: g.displayName, scope: g.scope as ScopeId };
    return out;
  }

  async links(): Promise<LinkRule[]> {
    await this.ryw.settle();
    return this.groups.links();
  }

  async accountsInScimGroupsNamed(name: string): Promise<string[]> {
    await this.ryw.settle();
    const accounts = new Set<string>();
    for (const g of this.scimGroups.byDisplayName(name)) for (const m of this.scimGroups.members(g.id)) accounts.add(m.accountId);
    return [...accounts].sort();
  }

  /**
   * For look-ups of things that, once they exist, do not change identity (a group's id and
   * path, an identity's account): a hit needs no waiting, a miss waits for this process's
   * writes, then for the store's head.
   */
  private async lookUp<T>(find: () => T | undefined): Promise<T | undefined> {
    const hit = find();
    if (hit !== undefined) return hit;
    await this.ryw.settle();
    const first = find();
    if (first !== undefined) return first;
    const head = await this.store.headPosition();
    if (this.runner.position >= head) return undefined;
    await this.runner.waitFor(head, 2000);
    return find();
  }
}
