import { ACCESS_LEVELS } from '../access-level';
import type { AccountState, DeprovisionContext, ReprovisionContext } from '../account.decider';
import type { SyncContext } from '../membership-sync';
import type { IdentityDirectory } from '../ports';
import { type ScopeId, scopeGroupId } from '../scope';

/** Group-scope facts a decision needs, looked up before deciding. */
export async function reprovisionContext(directory: IdentityDirectory, scope: ScopeId): Promise<ReprovisionContext> {
  const groupId = scopeGroupId(scope);
  if (!groupId) return {};
  const group = await directory.group(groupId);
  return { defaultMembership: { groupId, level: group?.defaultMembershipLevel ?? ACCESS_LEVELS.guest } };
}

export async function deprovisionContext(
  directory: IdentityDirectory,
  scope: ScopeId,
  accountId: string,
): Promise<DeprovisionContext> {
  const groupId = scopeGroupId(scope);
  if (!groupId) return { hierarchyGroupIds: [], soleOwnerGroupIds: [] };
  const hierarchyGroupIds = await directory.hierarchy(groupId);
  const soleOwnerGroupIds = await directory.soleOwnerGroups(accountId, hierarchyGroupIds);
  return { hierarchyGroupIds, soleOwnerGroupIds };
}

/** SCIM group sync facts for one account: its identities' SCIM groups and every link. */
export async function syncContext(directory: IdentityDirectory, state: AccountState): Promise<SyncContext> {
  const ids = new Set<string>();
  for (const identity of Object.values(state.identities)) for (const g of identity.scimGroups) ids.add(g);
  if (ids.size === 0) return { scimGroups: {}, links: [] };
  return { scimGroups: await directory.scimGroupInfo([...ids]), links: await directory.links() };
}
