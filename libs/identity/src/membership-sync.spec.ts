import { ACCESS_LEVELS } from './access-level';
import { type AccountState, decide, evolve, initialState } from './account.decider';
import type { AccountEvent } from './events';
import type { SyncContext } from './membership-sync';

const ACC = 'acc';
const at = '2026-01-01T00:00:00Z';
const provisioned = (identityId: string, scope: 'application' | `group:${string}`): AccountEvent => ({
  type: 'UserProvisioned',
  data: { accountId: ACC, username: 'u', identityId, scope, userName: identityId, samlNameId: identityId, attributes: { userName: identityId }, active: true },
});
const linked = (identityId: string, scope: `group:${string}`): AccountEvent => ({
  type: 'IdentityLinked',
  data: { accountId: ACC, identityId, scope, userName: identityId, samlNameId: identityId, attributes: { userName: identityId }, active: true, reason: 'email_match' },
});
const state = (...events: AccountEvent[]): AccountState => events.reduce((s, e) => evolve(s, e, at), initialState());

const ctx: SyncContext = {
  scimGroups: {
    devs: { displayName: 'devs', scope: 'application' },
    leads: { displayName: ' leads ', scope: 'application' },
    topDevs: { displayName: 'devs', scope: 'group:top' },
  },
  links: [
    { samlGroupName: 'devs', groupId: 'eng', topLevelId: 'top', level: ACCESS_LEVELS.developer },
    { samlGroupName: 'leads', groupId: 'eng', topLevelId: 'top', level: ACCESS_LEVELS.maintainer },
    { samlGroupName: 'devs', groupId: 'elsewhere', topLevelId: 'other', level: ACCESS_LEVELS.reporter },
  ],
};

const levels = (events: AccountEvent[]) =>
  events.filter((e) => e.type === 'GroupMembershipChanged').map((e) => [(e.data as { groupId: string }).groupId, (e.data as { to: number | null }).to]);

describe('SCIM group sync (given / when / then)', () => {
  it('joining a linked SCIM group grants every linked group at its level', () => {
    const s = state(provisioned('i1', 'application'));
    const events = decide({ type: 'ChangeScimGroupMembers', groupId: 'devs', scope: 'application', add: ['i1'], remove: [], sync: ctx, cause: 't' }, s);
    expect(events[0]).toMatchObject({ type: 'ScimGroupMembersAdded', data: { members: ['i1'], groupId: 'devs' } });
    expect(levels(events)).toEqual([
      ['elsewhere', ACCESS_LEVELS.reporter],
      ['eng', ACCESS_LEVELS.developer],
    ]);
  });

  it('takes the highest level across SCIM groups (names matched after trimming), and downgrades on leaving', () => {
    let s = state(provisioned('i1', 'application'));
    for (const groupId of ['devs', 'leads']) {
      s = decide({ type: 'ChangeScimGroupMembers', groupId, scope: 'application', add: ['i1'], remove: [], sync: ctx, cause: 't' }, s).reduce((x, e) => evolve(x, e, at), s);
    }
    expect(s.memberships.eng).toEqual({ scim_group_sync: ACCESS_LEVELS.maintainer });
    const leave = decide({ type: 'ChangeScimGroupMembers', groupId: 'leads', scope: 'application', add: [], remove: ['i1'], sync: ctx, cause: 't' }, s);
    expect(levels(leave)).toEqual([['eng', ACCESS_LEVELS.developer]]);
  });

  it('a group-scope SCIM group drives only links inside its own top-level group', () => {
    const s = state(provisioned('i0', 'application'), linked('g1', 'group:top'));
    const events = decide({ type: 'ChangeScimGroupMembers', groupId: 'topDevs', scope: 'group:top', add: ['g1'], remove: [], sync: ctx, cause: 't' }, s);
    expect(levels(events)).toEqual([['eng', ACCESS_LEVELS.developer]]);
  });

  it('an inactive group-scope identity suspends grants inside that hierarchy from any SCIM group', () => {
    const s = state(
      provisioned('i1', 'application'),
      linked('g1', 'group:top'),
      { type: 'IdentityDeactivated', data: { accountId: ACC, identityId: 'g1', scope: 'group:top' } },
    );
    const events = decide({ type: 'ChangeScimGroupMembers', groupId: 'devs', scope: 'application', add: ['i1'], remove: [], sync: ctx, cause: 't' }, s);
    expect(levels(events)).toEqual([['elsewhere', ACCESS_LEVELS.reporter]]);
  });

  it('adding a member twice changes nothing; a resync after a link disappears removes what it granted', () => {
    let s = state(provisioned('i1', 'application'));
    s = decide({ type: 'ChangeScimGroupMembers', groupId: 'devs', scope: 'application', add: ['i1'], remove: [], sync: ctx, cause: 't' }, s).reduce((x, e) => evolve(x, e, at), s);
    expect(decide({ type: 'ChangeScimGroupMembers', groupId: 'devs', scope: 'application', add: ['i1'], remove: [], sync: ctx, cause: 't' }, s)).toEqual([]);
    const fewer: SyncContext = { ...ctx, links: ctx.links.filter((l) => l.groupId !== 'elsewhere') };
    expect(levels(decide({ type: 'ResyncMemberships', sync: fewer, cause: 'link removed' }, s))).toEqual([['elsewhere', null]]);
  });
});
