import { foldEvents } from '@app/decider';
import { DeciderSpecification } from '@app/decider/testing';
import { ACCESS_LEVELS } from './access-level';
import { type AccountCommand, accountDecider } from './account.decider';
import { Conflict, LastOwnerViolation, ResourceNotFound, UniquenessViolation } from './errors';
import type { Occurred } from './event-family';
import type { AccountEvent } from './events';

const spec = DeciderSpecification.for(accountDecider);

/** The past happened then; what a command causes happens at its `now`. */
const THEN = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-02T00:00:00.000Z';
const past = (e: AccountEvent): Occurred<AccountEvent> => ({ ...e, occurredAt: THEN });
const now = (e: AccountEvent): Occurred<AccountEvent> => ({ ...e, occurredAt: NOW });

const ACC = 'acc-1';
const ID = 'id-1';
const TOP = 'top-group';
const noDeprovision = { hierarchyGroupIds: [], soleOwnerGroupIds: [] };
const ATTRIBUTES = { userName: 'jdoe@example.com', externalId: 'ext-1', emails: [{ value: 'jdoe@example.com', primary: true }] };
type Scope = 'application' | `group:${string}`;

const provisioned = (scope: Scope = 'application') =>
  past({
    type: 'UserProvisioned',
    data: {
      accountId: ACC,
      username: 'jdoe',
      email: 'jdoe@example.com',
      identityId: ID,
      scope,
      userName: 'jdoe@example.com',
      externalId: 'ext-1',
      samlNameId: 'ext-1',
      attributes: ATTRIBUTES,
      active: true,
    },
  });
const ids = (scope: Scope = 'application') => ({ accountId: ACC, identityId: ID, scope });
const deactivated = (scope: Scope = 'application') => past({ type: 'IdentityDeactivated', data: ids(scope) });
const blocked = past({ type: 'UserBlocked', data: { accountId: ACC, reason: 'scim_deprovisioned', scope: 'application' } });
const deleted = past({ type: 'IdentityDeleted', data: ids() });

const provision = (extra: Partial<Extract<AccountCommand, { type: 'ProvisionUser' }>>): AccountCommand => ({
  type: 'ProvisionUser',
  now: NOW,
  accountId: ACC,
  identityId: ID,
  scope: 'application',
  username: 'jdoe',
  attributes: { userName: 'jdoe@example.com', externalId: 'ext-1' },
  active: true,
  reprovision: {},
  ...extra,
});

const update = (attributes: Record<string, unknown>, extra: Partial<Extract<AccountCommand, { type: 'UpdateIdentity' }>> = {}): AccountCommand => ({
  type: 'UpdateIdentity',
  now: NOW,
  identityId: ID,
  attributes,
  deprovision: noDeprovision,
  reprovision: {},
  ...extra,
});

const membership = (groupId: string, source: 'scim_provisioning' | 'admin', from: 10 | 30 | 50 | null, to: 10 | 30 | 50 | null, cause: string) =>
  ({ type: 'GroupMembershipChanged', data: { accountId: ACC, groupId, source, from, to, effectiveFrom: from, effectiveTo: to, cause } }) as const;

describe('account decider', () => {
  describe('provisioning', () => {
    it('provisions an account with its first identity; the SAML NameID defaults to externalId', () => {
      spec
        .given([])
        .when(provision({}))
        .then([
          now({
            type: 'UserProvisioned',
            data: {
              accountId: ACC,
              username: 'jdoe',
              identityId: ID,
              scope: 'application',
              userName: 'jdoe@example.com',
              externalId: 'ext-1',
              samlNameId: 'ext-1',
              attributes: { userName: 'jdoe@example.com', externalId: 'ext-1' },
              active: true,
            },
          }),
        ]);
    });

    it('without externalId the SAML NameID is the userName (and the event has no externalId)', () => {
      const attributes = { userName: 'jdoe@example.com' };
      spec
        .given([])
        .when(provision({ attributes }))
        .then([
          now({
            type: 'UserProvisioned',
            data: { accountId: ACC, username: 'jdoe', identityId: ID, scope: 'application', userName: 'jdoe@example.com', samlNameId: 'jdoe@example.com', attributes, active: true },
          }),
        ]);
    });

    it('an instance-scope POST with active:false creates the account blocked', () => {
      const attributes = { userName: 'jdoe' };
      spec
        .given([])
        .when(provision({ attributes, active: false }))
        .then([
          now({
            type: 'UserProvisioned',
            data: { accountId: ACC, username: 'jdoe', identityId: ID, scope: 'application', userName: 'jdoe', samlNameId: 'jdoe', attributes, active: false },
          }),
          now({ type: 'UserBlocked', data: { accountId: ACC, reason: 'scim_deprovisioned', scope: 'application' } }),
        ]);
    });

    it('group-scope provisioning makes the account a member of the top-level group with the default role', () => {
      const attributes = { userName: 'jdoe' };
      spec
        .given([])
        .when(provision({ scope: `group:${TOP}`, attributes, reprovision: { defaultMembership: { groupId: TOP, level: ACCESS_LEVELS.developer } } }))
        .then([
          now({
            type: 'UserProvisioned',
            data: { accountId: ACC, username: 'jdoe', identityId: ID, scope: `group:${TOP}`, userName: 'jdoe', samlNameId: 'jdoe', attributes, active: true },
          }),
          now(membership(TOP, 'scim_provisioning', null, 30, 'scim identity provisioned')),
        ]);
    });

    it('refuses to provision an account that exists', () => {
      spec.given([provisioned()]).when(provision({})).thenThrows(UniquenessViolation);
    });

    it('refuses a second identity of the same account in one scope', () => {
      spec
        .given([provisioned()])
        .when({ type: 'LinkIdentity', now: NOW, identityId: 'id-2', scope: 'application', attributes: { userName: 'x' }, active: true, reason: 'email_match', reprovision: {} })
        .thenThrows(UniquenessViolation);
    });
  });

  describe('updates', () => {
    it('records an externalId change as ExternIdChanged and moves the SAML NameID with it', () => {
      const command = update({ ...ATTRIBUTES, externalId: 'ext-2' });
      const changed = now({ type: 'ExternIdChanged', data: { ...ids(), from: 'ext-1', to: 'ext-2', samlNameIdFrom: 'ext-1', samlNameIdTo: 'ext-2' } });
      spec.given([provisioned()]).when(command).then([changed]);
      const after = foldEvents(accountDecider.evolve, [provisioned(), changed], accountDecider.initialState());
      expect(after.identities[ID]).toMatchObject({ externalId: 'ext-2', samlNameId: 'ext-2', lastModified: NOW, created: THEN });
    });

    it('records userName and profile changes field by field, including extension attributes', () => {
      const ext = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
      spec
        .given([provisioned()])
        .when(update({ ...ATTRIBUTES, userName: 'john@example.com', title: 'CTO', [ext]: { department: 'R&D' } }))
        .then([
          now({ type: 'UserNameChanged', data: { ...ids(), from: 'jdoe@example.com', to: 'john@example.com' } }),
          now({
            type: 'UserProfileUpdated',
            data: {
              ...ids(),
              changes: [
                { path: 'title', to: 'CTO' },
                { path: `${ext}:department`, to: 'R&D' },
              ],
            },
          }),
        ]);
    });

    it('an update that changes nothing emits nothing', () => {
      spec.given([provisioned()]).when(update({ ...ATTRIBUTES })).thenNothingHappened();
    });

    it('instance-scope deactivation blocks the account; reactivation unblocks it', () => {
      spec
        .given([provisioned()])
        .when(update({ ...ATTRIBUTES }, { active: false }))
        .then([now({ type: 'IdentityDeactivated', data: ids() }), now({ type: 'UserBlocked', data: { accountId: ACC, reason: 'scim_deprovisioned', scope: 'application' } })]);
      spec
        .given([provisioned(), deactivated(), blocked])
        .when(update({ ...ATTRIBUTES }, { active: true }))
        .then([
          now({ type: 'IdentityReactivated', data: ids() }),
          now({ type: 'UserUnblocked', data: { accountId: ACC, reason: 'scim_reprovisioned', scope: 'application' } }),
        ]);
    });

    it('an update without active leaves an inactive identity inactive', () => {
      spec
        .given([provisioned(), deactivated()])
        .when(update({ ...ATTRIBUTES, title: 'x' }))
        .then([now({ type: 'UserProfileUpdated', data: { ...ids(), changes: [{ path: 'title', to: 'x' }] } })]);
    });

    it('an update of an identity the account does not have is a 404', () => {
      spec.given([provisioned()]).when(update({ ...ATTRIBUTES }, { identityId: 'nobody' })).thenThrows(ResourceNotFound, (e) => e.message.includes('nobody'));
    });
  });

  describe('group scope deprovisioning', () => {
    const scope = `group:${TOP}` as const;
    const member = (groupId: string, level: 10 | 30 | 50, source: 'scim_provisioning' | 'admin' = 'scim_provisioning') =>
      past(membership(groupId, source, null, level, 'test'));

    it('removes every membership inside the hierarchy, whatever its source, and keeps the account', () => {
      spec
        .given([provisioned(scope), member(TOP, 10), member('sub', 30, 'admin'), member('elsewhere', 30, 'admin')])
        .when(update({ ...ATTRIBUTES }, { active: false, deprovision: { hierarchyGroupIds: [TOP, 'sub'], soleOwnerGroupIds: [] } }))
        .then([
          now({ type: 'IdentityDeactivated', data: ids(scope) }),
          now(membership('sub', 'admin', 30, null, 'scim identity deactivated')),
          now(membership(TOP, 'scim_provisioning', 10, null, 'scim identity deactivated')),
        ]);
    });

    it('refuses to deprovision the last owner of a group', () => {
      spec
        .given([provisioned(scope), member(TOP, 50)])
        .when(update({ ...ATTRIBUTES }, { active: false, deprovision: { hierarchyGroupIds: [TOP], soleOwnerGroupIds: [TOP] } }))
        .thenThrows(LastOwnerViolation);
    });

    it('reactivation restores the default role, not the earlier one', () => {
      spec
        .given([provisioned(scope), deactivated(scope)])
        .when(update({ ...ATTRIBUTES }, { active: true, reprovision: { defaultMembership: { groupId: TOP, level: ACCESS_LEVELS.guest } } }))
        .then([now({ type: 'IdentityReactivated', data: ids(scope) }), now(membership(TOP, 'scim_provisioning', null, 10, 'scim identity reactivated'))]);
    });

    it('while the group-scope identity is inactive nobody may grant access in its hierarchy; removing stays allowed', () => {
      const grant = (level: 30 | null): AccountCommand => ({ type: 'SetMembership', now: NOW, groupId: 'sub', topLevelId: TOP, source: 'admin', level, cause: 'admin' });
      spec.given([provisioned(scope), deactivated(scope)]).when(grant(30)).thenThrows(Conflict);
      spec
        .given([provisioned(scope), member('sub', 30, 'admin'), deactivated(scope)])
        .when(grant(null))
        .then([now(membership('sub', 'admin', 30, null, 'admin'))]);
    });
  });

  describe('deletion', () => {
    it('deprovisions and deletes', () => {
      spec
        .given([provisioned()])
        .when({ type: 'DeleteIdentity', now: NOW, identityId: ID, deprovision: noDeprovision })
        .then([now({ type: 'UserBlocked', data: { accountId: ACC, reason: 'scim_deprovisioned', scope: 'application' } }), now({ type: 'IdentityDeleted', data: ids() })]);
    });

    it('the deleted identity is gone for updates but can be revived', () => {
      spec.given([provisioned(), blocked, deleted]).when(update({ userName: 'jdoe@example.com' })).thenThrows(ResourceNotFound);
      spec
        .given([provisioned(), blocked, deleted])
        .when(update({ ...ATTRIBUTES }, { active: true, revive: true }))
        .then([
          now({ type: 'IdentityReactivated', data: ids() }),
          now({ type: 'UserUnblocked', data: { accountId: ACC, reason: 'scim_reprovisioned', scope: 'application' } }),
        ]);
    });
  });

  describe('erasure', () => {
    const erase = (keepUniqueValues = false): AccountCommand => ({ type: 'EraseAccount', now: NOW, keepUniqueValues });
    const erased = (uniqueValues: 'released' | 'kept' = 'released') => past({ type: 'AccountErased', data: { accountId: ACC, uniqueValues } });

    it('erases an account, saying whether its unique values are released', () => {
      spec.given([provisioned()]).when(erase()).then([now({ type: 'AccountErased', data: { accountId: ACC, uniqueValues: 'released' } })]);
      spec.given([provisioned()]).when(erase(true)).then([now({ type: 'AccountErased', data: { accountId: ACC, uniqueValues: 'kept' } })]);
    });

    it('refuses every command once erased, and an erasure of nobody', () => {
      spec.given([provisioned(), erased()]).when(update({ userName: 'jdoe@example.com' })).thenThrows(ResourceNotFound);
      spec.given([provisioned(), erased()]).when(erase()).thenThrows(ResourceNotFound);
      spec.given([]).when(erase()).thenThrows(ResourceNotFound);
    });

    it('released: the account holds no identity (so no unique value) any more; kept: it still does', () => {
      const fold = (events: Occurred<AccountEvent>[]) => foldEvents(accountDecider.evolve, events, accountDecider.initialState());
      expect(fold([provisioned(), erased()])).toMatchObject({ erased: true, identities: {}, username: '', email: undefined });
      expect(Object.keys(fold([provisioned(), erased('kept')]).identities)).toEqual([ID]);
    });
  });
});
