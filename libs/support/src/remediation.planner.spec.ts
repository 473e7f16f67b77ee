import type { RecordedEvent } from '@app/event-store';
import { type AccountCommand, type AccountState, decide, foldAccount, initialState, InvalidCommand, ResourceNotFound } from '@app/identity';
import { planRemediation, remediationTarget } from './remediation.planner';

const ACC = '0190a000-0000-7000-8000-000000000001';
const ID = '0190a000-0000-7000-8000-0000000000a1';
const NEW_ID = '0190a000-0000-7000-8000-0000000000b2';
const ATTRS = { userName: 'jane@corp.test', externalId: 'Jane@corp.test', emails: [{ value: 'jane@corp.test', primary: true }] };
const NO_GROUPS = { hierarchyGroupIds: [], soleOwnerGroupIds: [] };

/** The state the account's stream folds to after these commands (through the real decider). */
function stateAfter(...commands: AccountCommand[]): AccountState {
  const log: RecordedEvent[] = [];
  for (const c of commands) {
    for (const e of decide(c, foldAccount(log))) {
      log.push({ id: `e${log.length}`, streamId: `account-${ACC}`, revision: BigInt(log.length), position: BigInt(log.length + 1), type: e.type, data: e.data as never, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' }, recordedAt: new Date('2026-01-01T00:00:00.000Z') });
    }
  }
  return foldAccount(log);
}

const NOW = '2026-01-01T00:00:00.000Z';
const provision: AccountCommand = { type: 'ProvisionUser', now: NOW, accountId: ACC, identityId: ID, scope: 'application', username: 'jane', attributes: ATTRS, active: true, reprovision: {} };
const live = stateAfter(provision);
const deleted = stateAfter(provision, { type: 'DeleteIdentity', now: NOW, identityId: ID, deprovision: NO_GROUPS });
const facts = (state: AccountState, more: object = {}) => ({ accountId: ACC, state, newIdentityId: NEW_ID, now: NOW, ...more });

describe('remediation planner', () => {
  it('change-external-id: the identity as it is, with the new externalId, no group changes', () => {
    expect(planRemediation({ action: 'change-external-id', scimId: ID, externalId: '00u-okta' }, facts(live))).toEqual({
      scope: 'application',
      command: { type: 'UpdateIdentity', now: NOW, identityId: ID, attributes: { ...ATTRS, externalId: '00u-okta' }, deprovision: NO_GROUPS, reprovision: {} },
    });
  });

  it('reactivate: active and revived (a deleted identity comes back with the same id)', () => {
    expect(planRemediation({ action: 'reactivate', scimId: ID }, facts(deleted))).toEqual({
      scope: 'application',
      command: { type: 'UpdateIdentity', now: NOW, identityId: ID, attributes: ATTRS, active: true, revive: true, deprovision: NO_GROUPS, reprovision: {} },
    });
  });

  it('unlink: the identity leaves the account', () => {
    expect(planRemediation({ action: 'unlink', scimId: ID }, facts(live))).toEqual({
      scope: 'application',
      command: { type: 'UnlinkIdentity', now: NOW, identityId: ID, deprovision: NO_GROUPS },
    });
  });

  it('link: a new identity in the application scope, or in a group scope with its default membership', () => {
    expect(planRemediation({ action: 'link', accountId: ACC, userName: 'jane2@corp.test' }, facts(live))).toEqual({
      scope: 'application',
      command: { type: 'LinkIdentity', now: NOW, identityId: NEW_ID, scope: 'application', attributes: { userName: 'jane2@corp.test' }, active: true, reason: 'remediation', reprovision: {} },
    });
    expect(planRemediation({ action: 'link', accountId: ACC, userName: 'jane2@corp.test', externalId: 'x-1', groupPath: 'acme' }, facts(live, { group: { id: 'g1', defaultMembershipLevel: 10 } }))).toEqual({
      scope: 'group:g1',
      command: {
        type: 'LinkIdentity',
        now: NOW,
        identityId: NEW_ID,
        scope: 'group:g1',
        attributes: { userName: 'jane2@corp.test', externalId: 'x-1' },
        active: true,
        reason: 'remediation',
        reprovision: { defaultMembership: { groupId: 'g1', level: 10 } },
      },
    });
  });

  it('refuses what it cannot plan, in the order the API has always answered', () => {
    expect(() => remediationTarget({ action: 'link', accountId: ACC })).toThrow(new InvalidCommand('link needs accountId and userName (and optionally externalId, groupPath)', 'accountId'));
    expect(() => remediationTarget({ action: 'unlink' })).toThrow(new InvalidCommand('unlink needs scimId', 'scimId'));
    expect(remediationTarget({ action: 'reactivate', scimId: ID })).toEqual({ identityId: ID });
    expect(remediationTarget({ action: 'link', accountId: ACC, userName: 'u' })).toEqual({ accountId: ACC });
    // An unknown identity is a 404 before a missing externalId is a 400.
    expect(() => planRemediation({ action: 'change-external-id', scimId: NEW_ID }, facts(live))).toThrow(ResourceNotFound);
    expect(() => planRemediation({ action: 'change-external-id', scimId: ID }, facts(live))).toThrow(new InvalidCommand('change-external-id needs externalId', 'externalId'));
    expect(() => planRemediation({ action: 'link', accountId: ACC, userName: 'u' }, facts(initialState()))).toThrow(new ResourceNotFound('Account', ACC));
  });
});
