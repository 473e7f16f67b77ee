import { ACCESS_LEVELS } from '../access-level';
import type { DeprovisionContext, ReprovisionContext } from '../account.decider';
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
