import { DeciderSpecification } from '@app/decider/testing';
import { ACCESS_LEVELS, type AccessLevel } from './access-level';
import { type AccountCommand, accountDecider } from './account.decider';
import type { Occurred } from './event-family';
import type { AccountEvent } from './events';
import type { SyncContext } from './membership-sync';
import type { ScopeId } from './scope';

const spec = DeciderSpecification.for(accountDecider);

const ACC = 'acc';
const THEN = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-02T00:00:00.000Z';
const past = (e: AccountEvent): Occurred<AccountEvent> => ({ ...e, occurredAt: THEN });
const now = (e: AccountEvent): Occurred<AccountEvent> => ({ ...e, occurredAt: NOW });
const { reporter, developer, maintainer } = ACCESS_LEVELS;

const provisioned = (identityId: string, scope: 'application' | `group:${string}`) =>
  past({
    type: 'UserProvisioned',
    data: { accountId: ACC, username: 'u', identityId, scope, userName: identityId, samlNameId: identityId, attributes: { userName: identityId }, active: true },
  });
const linked = (identityId: string, scope: `group:${string}`) =>
  past({
    type: 'IdentityLinked',
    data: { accountId: ACC, identityId, scope, userName: identityId, samlNameId: identityId, attributes: { userName: identityId }, active: true, reason: 'email_match' },
  });
const added = (groupId: string, member: string, scope: ScopeId = 'application'): AccountEvent => ({
  type: 'ScimGroupMembersAdded',
  data: { accountId: ACC, groupId, scope, members: [member] },
});
const removed = (groupId: string, member: string): AccountEvent => ({
  type: 'ScimGroupMembersRemoved',
  data: { accountId: ACC, groupId, scope: 'application', members: [member], cause: 't' },
});
const synced = (groupId: string, from: AccessLevel | null, to: AccessLevel | null, cause = 't'): AccountEvent => ({
  type: 'GroupMembershipChanged',
  data: { accountId: ACC, groupId, source: 'scim_group_sync', from, to, effectiveFrom: from, effectiveTo: to, cause },
});

const ctx: SyncContext = {
  scimGroups: {
    devs: { displayName: 'devs', scope: 'application' },
    leads: { displayName: ' leads ', scope: 'application' },
    topDevs: { displayName: 'devs', scope: 'group:top' },
  },
  links: [
    { samlGroupName: 'devs', groupId: 'eng', topLevelId: 'top', level: developer },
    { samlGroupName: 'leads', groupId: 'eng', topLevelId: 'top', level: maintainer },
    { samlGroupName: 'devs', groupId: 'elsewhere', topLevelId: 'other', level: reporter },
  ],
};

const change = (groupId: string, add: string[], remove: string[], scope: ScopeId = 'application'): AccountCommand => ({
  type: 'ChangeScimGroupMembers',
  now: NOW,
  groupId,
  scope,
  add,
  remove,
  sync: ctx,
  cause: 't',
});

/** i1 joined devs: granted elsewhere (reporter) and eng (developer). */
const inDevs = [provisioned('i1', 'application'), past(added('devs', 'i1')), past(synced('elsewhere', null, reporter)), past(synced('eng', null, developer))];

describe('SCIM group sync (given / when / then)', () => {
  it('joining a linked SCIM group grants every linked group at its level', () => {
    spec
      .given([provisioned('i1', 'application')])
      .when(change('devs', ['i1'], []))
      .then([now(added('devs', 'i1')), now(synced('elsewhere', null, reporter)), now(synced('eng', null, developer))]);
  });

  it('takes the highest level across SCIM groups (names matched after trimming), and downgrades on leaving', () => {
    spec
      .given(inDevs)
      .when(change('leads', ['i1'], []))
      .then([now(added('leads', 'i1')), now(synced('eng', developer, maintainer))]);
    spec
      .given([...inDevs, past(added('leads', 'i1')), past(synced('eng', developer, maintainer))])
      .when(change('leads', [], ['i1']))
      .then([now(removed('leads', 'i1')), now(synced('eng', maintainer, developer))]);
  });

  it('a group-scope SCIM group drives only links inside its own top-level group', () => {
    spec
      .given([provisioned('i0', 'application'), linked('g1', 'group:top')])
      .when(change('topDevs', ['g1'], [], 'group:top'))
      .then([now(added('topDevs', 'g1', 'group:top')), now(synced('eng', null, developer))]);
  });

  it('an inactive group-scope identity suspends grants inside that hierarchy from any SCIM group', () => {
    spec
      .given([provisioned('i1', 'application'), linked('g1', 'group:top'), past({ type: 'IdentityDeactivated', data: { accountId: ACC, identityId: 'g1', scope: 'group:top' } })])
      .when(change('devs', ['i1'], []))
      .then([now(added('devs', 'i1')), now(synced('elsewhere', null, reporter))]);
  });

  it('adding a member twice changes nothing; a resync after a link disappears removes what it granted', () => {
    spec.given(inDevs).when(change('devs', ['i1'], [])).thenNothingHappened();
    const fewer: SyncContext = { ...ctx, links: ctx.links.filter((l) => l.groupId !== 'elsewhere') };
    spec
      .given(inDevs)
      .when({ type: 'ResyncMemberships', now: NOW, sync: fewer, cause: 'link removed' })
      .then([now(synced('elsewhere', reporter, null, 'link removed'))]);
  });
});
