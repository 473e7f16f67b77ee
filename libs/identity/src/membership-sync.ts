import type { AccessLevel } from './access-level';
import { evolve } from './account.evolve';
import { setMembership } from './account.memberships';
import type { AccountState } from './account.state';
import type { Occurred } from './event-family';
import type { AccountEvent } from './events';
import { type ScopeId, scopeGroupId } from './scope';

/** A SAML group link as the membership engine needs it. */
export interface LinkRule {
  readonly samlGroupName: string;
  readonly groupId: string;
  readonly topLevelId: string;
  readonly level: AccessLevel;
}

/**
 * What SCIM group sync needs to know beyond the account's own stream, looked up by the
 * handler: the SCIM groups the account's identities are in (name and scope) and the SAML
 * group links. Computed per affected account, so a change never loads a group's members.
 */
export interface SyncContext {
  readonly scimGroups: Readonly<Record<string, { readonly displayName: string; readonly scope: ScopeId }>>;
  readonly links: readonly LinkRule[];
}

/**
 * GitLab's SCIM group sync rule: an account gets, in every linked group, the highest access
 * level across all its SCIM groups' links to that group. A group-scope SCIM group drives
 * only links inside its own top-level group. While the account's identity in a group scope
 * is inactive, nothing inside that hierarchy is granted.
 */
export function desiredSyncLevels(state: AccountState, ctx: SyncContext): Map<string, AccessLevel> {
  const suspended = new Set<string>();
  for (const identity of Object.values(state.identities)) {
    const top = scopeGroupId(identity.scope);
    if (top && !identity.unlinked && (!identity.active || identity.deleted)) suspended.add(top);
  }
  const desired = new Map<string, AccessLevel>();
  for (const identity of Object.values(state.identities)) {
    if (identity.unlinked || identity.deleted || !identity.active) continue;
    for (const scimGroupId of identity.scimGroups) {
      const group = ctx.scimGroups[scimGroupId];
      if (!group) continue;
      const name = group.displayName.trim();
      const ownTop = scopeGroupId(group.scope);
      for (const link of ctx.links) {
        if (link.samlGroupName.trim() !== name) continue;
        if (ownTop !== undefined && link.topLevelId !== ownTop) continue;
        if (suspended.has(link.topLevelId)) continue;
        const current = desired.get(link.groupId);
        if (current === undefined || link.level > current) desired.set(link.groupId, link.level);
      }
    }
  }
  return desired;
}

/** The GroupMembershipChanged events that bring sync-sourced memberships to the desired levels. */
export function syncMemberships(state: AccountState, ctx: SyncContext, cause: string, now: string): Occurred<AccountEvent>[] {
  const desired = desiredSyncLevels(state, ctx);
  const groups = new Set([
    ...desired.keys(),
    ...Object.entries(state.memberships)
      .filter(([, sources]) => sources.scim_group_sync !== undefined)
      .map(([groupId]) => groupId),
  ]);
  const events: Occurred<AccountEvent>[] = [];
  let current = state;
  for (const groupId of [...groups].sort()) {
    for (const e of setMembership(current, groupId, 'scim_group_sync', desired.get(groupId) ?? null, cause, now)) {
      events.push(e);
      current = evolve(current, e);
    }
  }
  return events;
}
