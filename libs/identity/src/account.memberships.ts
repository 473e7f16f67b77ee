import type { AccessLevel } from './access-level';
import { type AccountState, effectiveLevel, type MembershipSources } from './account.state';
import type { Occurred } from './event-family';
import type { AccountEvent, MembershipSource } from './events';

/**
 * The GroupMembershipChanged that moves one source's level in one group to `level` (none
 * when it is there already). Shared by the account decider and SCIM group sync, which both
 * grant and take access through it.
 */
export function setMembership(
  state: AccountState,
  groupId: string,
  source: MembershipSource,
  level: AccessLevel | null,
  cause: string,
  now: string,
): Occurred<AccountEvent>[] {
  const sources = state.memberships[groupId];
  const from = sources?.[source] ?? null;
  if (from === level) return [];
  const next: MembershipSources = { ...(sources ?? {}) };
  if (level === null) delete next[source];
  else next[source] = level;
  return [
    {
      type: 'GroupMembershipChanged',
      data: {
        accountId: state.id,
        groupId,
        source,
        from,
        to: level,
        effectiveFrom: effectiveLevel(sources),
        effectiveTo: effectiveLevel(next),
        cause,
      },
      occurredAt: now,
    },
  ];
}
