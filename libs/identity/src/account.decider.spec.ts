import { ACCESS_LEVELS } from './access-level';
import { type AccountCommand, type AccountState, decide, evolve, initialState } from './account.decider';
import { LastOwnerViolation, ResourceNotFound, UniquenessViolation } from './errors';
import type { AccountEvent } from './events';

/** given(events).when(command).then(events): the decider's rules, without I/O. */
function given(...events: AccountEvent[]) {
  const state = events.reduce((s, e) => evolve(s, e, '2026-01-01T00:00:00.000Z'), initialState());
  return {
    state,
    when: (command: AccountCommand) => {
      const run = () => decide(command, state);
      return {
        then: (expected: Partial<AccountEvent>[]) => expect(run()).toEqual(expected.map((e) => expect.objectContaining(e))),
        thenTypes: (types: string[]) => expect(run().map((e) => e.type)).toEqual(types),
        thenThrows: (error: new (...a: never[]) => Error) => expect(run).toThrow(error),
        events: run,
      };
    },
  };
}

const ACC = 'acc-1';
const ID = 'id-1';
const TOP = 'top-group';
const noDeprovision = { hierarchyGroupIds: [], soleOwnerGroupIds: [] };

const provisioned = (scope: 'application' | `group:${string}` = 'application', extra: Record<string, unknown> = {}): AccountEvent => ({
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
    attributes: { userName: 'jdoe@example.com', externalId: 'ext-1', emails: [{ value: 'jdoe@example.com', primary: true }] },
    active: true,
    ...extra,
  },
});

const update = (attributes: Record<string, unknown>, active?: boolean, extra: Partial<AccountCommand> = {}): AccountCommand =>
  ({
    type: 'UpdateIdentity',
    identityId: ID,
    attributes,
    ...(active !== undefined ? { active } : {}),
    deprovision: noDeprovision,
    reprovision: {},
    ...extra,
  }) as AccountCommand;

describe('account decider', () => {
  describe('provisioning', () => {
    it('provisions an account with its first identity; the SAML NameID defaults to externalId', () => {
      given()
        .when({
          type: 'ProvisionUser',
          accountId: ACC,
          identityId: ID,
          scope: 'application',
          username: 'jdoe',
          attributes: { userName: 'jdoe@example.com', externalId: 'ext-1' },
          active: true,
          reprovision: {},
        })
        .then([{ type: 'UserProvisioned', data: expect.objectContaining({ samlNameId: 'ext-1', username: 'jdoe' }) }]);
    });

    it('without externalId the SAML NameID is the userName', () => {
      const events = given()
        .when({
          type: 'ProvisionUser',
          accountId: ACC,
          identityId: ID,
          scope: 'application',
          username: 'jdoe',
          attributes: { userName: 'jdoe@example.com' },
          active: true,
          reprovision: {},
        })
        .events();
      expect(events[0].data).toMatchObject({ samlNameId: 'jdoe@example.com' });
      expect(events[0].data).not.toHaveProperty('externalId');
    });

    it('an instance-scope POST with active:false creates the account blocked', () => {
      given()
        .when({
          type: 'ProvisionUser',
          accountId: ACC,
          identityId: ID,
          scope: 'application',
          username: 'jdoe',
          attributes: { userName: 'jdoe' },
          active: false,
          reprovision: {},
        })
        .thenTypes(['UserProvisioned', 'UserBlocked']);
    });

    it('group-scope provisioning makes the account a member of the top-level group with the default role', () => {
      given()
        .when({
          type: 'ProvisionUser',
          accountId: ACC,
          identityId: ID,
          scope: `group:${TOP}`,
          username: 'jdoe',
          attributes: { userName: 'jdoe' },
          active: true,
          reprovision: { defaultMembership: { groupId: TOP, level: ACCESS_LEVELS.developer } },
        })
        .then([
          { type: 'UserProvisioned' },
          {
            type: 'GroupMembershipChanged',
            data: expect.objectContaining({ groupId: TOP, source: 'scim_provisioning', from: null, to: 30, effectiveTo: 30 }),
          },
        ]);
    });

    it('refuses a second identity of the same account in one scope', () => {
      given(provisioned())
        .when({ type: 'LinkIdentity', identityId: 'id-2', scope: 'application', attributes: { userName: 'x' }, active: true, reason: 'email_match', reprovision: {} })
        .thenThrows(UniquenessViolation);
    });
  });

  describe('updates', () => {
    it('records an externalId change as ExternIdChanged and moves the SAML NameID with it', () => {
      const s = given(provisioned());
      const events = s.when(update({ ...s.state.identities[ID].attributes, externalId: 'ext-2' })).events();
      expect(events).toEqual([
        { type: 'ExternIdChanged', data: expect.objectContaining({ from: 'ext-1', to: 'ext-2', samlNameIdFrom: 'ext-1', samlNameIdTo: 'ext-2' }) },
      ]);
      const after = events.reduce((st: AccountState, e) => evolve(st, e, 't'), s.state);
      expect(after.identities[ID]).toMatchObject({ externalId: 'ext-2', samlNameId: 'ext-2' });
    });

    it('records userName and profile changes field by field, including extension attributes', () => {
      const s = given(provisioned());
      const ext = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
      const events = s
        .when(update({ ...s.state.identities[ID].attributes, userName: 'john@example.com', title: 'CTO', [ext]: { department: 'R&D' } }))
        .events();
      expect(events.map((e) => e.type)).toEqual(['UserNameChanged', 'UserProfileUpdated']);
      expect(events[1].data).toMatchObject({
        changes: [
          { path: 'title', to: 'CTO' },
          { path: `${ext}:department`, to: 'R&D' },
        ],
      });
    });

    it('an update that changes nothing emits nothing', () => {
      const s = given(provisioned());
      s.when(update({ ...s.state.identities[ID].attributes })).thenTypes([]);
    });

    it('instance-scope deactivation blocks the account; reactivation unblocks it', () => {
      const s = given(provisioned());
      s.when(update({ ...s.state.identities[ID].attributes }, false)).thenTypes(['IdentityDeactivated', 'UserBlocked']);
      const blocked = given(provisioned(), { type: 'IdentityDeactivated', data: { accountId: ACC, identityId: ID, scope: 'application' } }, {
        type: 'UserBlocked',
        data: { accountId: ACC, reason: 'scim_deprovisioned', scope: 'application' },
      });
      blocked.when(update({ ...blocked.state.identities[ID].attributes }, true)).thenTypes(['IdentityReactivated', 'UserUnblocked']);
    });

    it('an update without active leaves an inactive identity inactive', () => {
      const s = given(provisioned(), { type: 'IdentityDeactivated', data: { accountId: ACC, identityId: ID, scope: 'application' } });
      s.when(update({ ...s.state.identities[ID].attributes, title: 'x' })).thenTypes(['UserProfileUpdated']);
    });
  });

  describe('group scope deprovisioning', () => {
    const scope = `group:${TOP}` as const;
    const member = (groupId: string, level: 10 | 30 | 50, source: 'scim_provisioning' | 'admin' = 'scim_provisioning'): AccountEvent => ({
      type: 'GroupMembershipChanged',
      data: { accountId: ACC, groupId, source, from: null, to: level, effectiveFrom: null, effectiveTo: level, cause: 'test' },
    });

    it('removes every membership inside the hierarchy, whatever its source, and keeps the account', () => {
      const s = given(provisioned(scope), member(TOP, 10), member('sub', 30, 'admin'), member('elsewhere', 30, 'admin'));
      const events = s
        .when(update({ ...s.state.identities[ID].attributes }, false, { deprovision: { hierarchyGroupIds: [TOP, 'sub'], soleOwnerGroupIds: [] } }))
        .events();
      expect(events.map((e) => [e.type, (e.data as { groupId?: string }).groupId])).toEqual([
        ['IdentityDeactivated', undefined],
        ['GroupMembershipChanged', 'sub'],
        ['GroupMembershipChanged', TOP],
      ]);
    });

    it('refuses to deprovision the last owner of a group', () => {
      const s = given(provisioned(scope), member(TOP, 50));
      s.when(update({ ...s.state.identities[ID].attributes }, false, { deprovision: { hierarchyGroupIds: [TOP], soleOwnerGroupIds: [TOP] } })).thenThrows(
        LastOwnerViolation,
      );
    });

    it('reactivation restores the default role, not the earlier one', () => {
      const s = given(provisioned(scope), { type: 'IdentityDeactivated', data: { accountId: ACC, identityId: ID, scope } });
      s.when(
        update({ ...s.state.identities[ID].attributes }, true, { reprovision: { defaultMembership: { groupId: TOP, level: ACCESS_LEVELS.guest } } }),
      ).then([{ type: 'IdentityReactivated' }, { type: 'GroupMembershipChanged', data: expect.objectContaining({ to: 10 }) }]);
    });
  });

  describe('deletion', () => {
    it('deprovisions and deletes; the deleted identity is gone for updates but can be revived', () => {
      const s = given(provisioned());
      s.when({ type: 'DeleteIdentity', identityId: ID, deprovision: noDeprovision }).thenTypes(['UserBlocked', 'IdentityDeleted']);
      const deleted = given(
        provisioned(),
        { type: 'UserBlocked', data: { accountId: ACC, reason: 'scim_deprovisioned', scope: 'application' } },
        { type: 'IdentityDeleted', data: { accountId: ACC, identityId: ID, scope: 'application' } },
      );
      deleted.when(update({ userName: 'jdoe@example.com' })).thenThrows(ResourceNotFound);
      deleted
        .when(update({ ...deleted.state.identities[ID].attributes }, true, { revive: true } as Partial<AccountCommand>))
        .thenTypes(['IdentityReactivated', 'UserUnblocked']);
    });
  });
});
