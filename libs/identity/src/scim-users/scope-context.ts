import { ACCESS_LEVELS } from '../access-level';
import type { AccountState, DeprovisionContext, ReprovisionContext } from '../account.decider';
import type { SyncContext } from '../membership-sync';
import type { GroupInfo, IdentityDirectory } from '../ports';
import { type ScopeId, scopeGroupId } from '../scope';

/** What a scope implies for a command on one account: looked up before deciding. */
export interface ScopeContext {
  /** Group scope: the top-level group and its default membership role. */
  readonly reprovision: ReprovisionContext;
  /** Group scope: the hierarchy and where this account is the only owner. */
  readonly deprovision: DeprovisionContext;
  /** SCIM group sync facts: the account's identities' SCIM groups and every link. */
  readonly sync: SyncContext;
}

/** The scope's top-level group as read once for a command (`undefined`: instance scope, or the group is gone). */
export interface ScopeGroup {
  readonly group: GroupInfo | undefined;
}

export async function readScopeGroup(directory: IdentityDirectory, scope: ScopeId): Promise<ScopeGroup> {
  const groupId = scopeGroupId(scope);
  return { group: groupId === undefined ? undefined : await directory.group(groupId) };
}

/**
 * The one place the SCIM user handlers learn what their scope implies. With an account, every
 * context an identity command may need; without one (a new account), only what provisioning
 * needs. `known` passes a group the caller already read for this attempt.
 */
export async function loadScopeContext(
  directory: IdentityDirectory,
  scope: ScopeId,
  account: AccountState,
  known?: ScopeGroup,
): Promise<ScopeContext>;
export async function loadScopeContext(
  directory: IdentityDirectory,
  scope: ScopeId,
  account: undefined,
  known?: ScopeGroup,
): Promise<Pick<ScopeContext, 'reprovision'>>;
export async function loadScopeContext(
  directory: IdentityDirectory,
  scope: ScopeId,
  account: AccountState | undefined,
  known?: ScopeGroup,
): Promise<ScopeContext | Pick<ScopeContext, 'reprovision'>> {
  const groupId = scopeGroupId(scope);
  const { group } = known ?? (await readScopeGroup(directory, scope));
  const reprovision: ReprovisionContext = groupId
    ? { defaultMembership: { groupId, level: group?.defaultMembershipLevel ?? ACCESS_LEVELS.guest } }
    : {};
  if (!account) return { reprovision };
  return {
    reprovision,
    deprovision: await deprovisionContext(directory, groupId, account.id),
    sync: await syncContext(directory, account),
  };
}

async function deprovisionContext(
  directory: IdentityDirectory,
  groupId: string | undefined,
  accountId: string,
): Promise<DeprovisionContext> {
  if (!groupId) return { hierarchyGroupIds: [], soleOwnerGroupIds: [] };
  const hierarchyGroupIds = await directory.hierarchy(groupId);
  const soleOwnerGroupIds = await directory.soleOwnerGroups(accountId, hierarchyGroupIds);
  return { hierarchyGroupIds, soleOwnerGroupIds };
}

async function syncContext(directory: IdentityDirectory, state: AccountState): Promise<SyncContext> {
  const ids = new Set<string>();
  for (const identity of Object.values(state.identities)) for (const g of identity.scimGroups) ids.add(g);
  if (ids.size === 0) return { scimGroups: {}, links: [] };
  return { scimGroups: await directory.scimGroupInfo([...ids]), links: await directory.links() };
}
