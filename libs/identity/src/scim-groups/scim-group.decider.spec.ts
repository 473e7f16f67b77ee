import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '@app/decider/testing';
import { InvalidCommand, ResourceNotFound } from '../errors';
import {
  displayNameReservations,
  evolve,
  initialState,
  memberChanges,
  requireLiveMembers,
  type ScimGroupDecidedEvent,
  scimGroupDecider,
} from './scim-group.decider';

const spec = DeciderSpecification.for(scimGroupDecider);
const groupId = 'g-1';
const scope = 'application' as const;
const T0 = '2026-01-01T00:00:00.000Z';
const now = '2026-01-02T00:00:00.000Z';

const created: ScimGroupDecidedEvent = { type: 'ScimGroupCreated', data: { groupId, scope, displayName: 'Eng', externalId: 'x-1' }, occurredAt: T0 };
const deleted: ScimGroupDecidedEvent = { type: 'ScimGroupDeleted', data: { groupId, scope, displayName: 'Eng' }, occurredAt: T0 };
const change = (c: { displayName?: string; externalId?: string | null }) => ({ type: 'ChangeScimGroup' as const, groupId, scope, ...c, now });

describe('SCIM group decider', () => {
  describe('create', () => {
    it('creates the group with the time of the command', () => {
      spec
        .given([])
        .when({ type: 'CreateScimGroup', groupId, scope, displayName: 'Eng', externalId: 'x-1', now })
        .then([{ type: 'ScimGroupCreated', data: { groupId, scope, displayName: 'Eng', externalId: 'x-1' }, occurredAt: now }]);
    });

    it('leaves an absent or cleared externalId out of the event', () => {
      spec
        .given([])
        .when({ type: 'CreateScimGroup', groupId, scope, displayName: 'Eng', externalId: null, now })
        .then([{ type: 'ScimGroupCreated', data: { groupId, scope, displayName: 'Eng' }, occurredAt: now }]);
    });

    it.each([
      ['missing', undefined, /required/],
      ['blank', '  ', /required/],
      ['too long', 'x'.repeat(256), /255/],
      ['holding a control character', 'a\u0007b', /displayName/],
    ])('refuses a displayName that is %s', (_, displayName, message) => {
      spec
        .given([])
        .when({ type: 'CreateScimGroup', groupId, scope, displayName, now })
        .thenThrows(InvalidCommand, (e) => e.attribute === 'displayName' && message.test(e.message));
    });

    it('refuses an id that already has a group', () => {
      spec.given([created]).when({ type: 'CreateScimGroup', groupId, scope, displayName: 'Other', now }).thenThrows(InvalidCommand);
    });
  });

  describe('patch and replace', () => {
    it('renames, naming the old and the new name', () => {
      spec.given([created]).when(change({ displayName: 'Engineering' })).then([
        { type: 'ScimGroupRenamed', data: { groupId, scope, from: 'Eng', to: 'Engineering' }, occurredAt: now },
      ]);
    });

    it('changes and clears the externalId', () => {
      spec.given([created]).when(change({ externalId: 'x-2' })).then([
        { type: 'ScimGroupExternalIdChanged', data: { groupId, scope, from: 'x-1', to: 'x-2' }, occurredAt: now },
      ]);
      spec.given([created]).when(change({ externalId: null })).then([
        { type: 'ScimGroupExternalIdChanged', data: { groupId, scope, from: 'x-1' }, occurredAt: now },
      ]);
    });

    it('renames and changes the externalId in one replace, in that order', () => {
      spec.given([created]).when(change({ displayName: 'Ops', externalId: 'x-9' })).then([
        { type: 'ScimGroupRenamed', data: { groupId, scope, from: 'Eng', to: 'Ops' }, occurredAt: now },
        { type: 'ScimGroupExternalIdChanged', data: { groupId, scope, from: 'x-1', to: 'x-9' }, occurredAt: now },
      ]);
    });

    it('accepts a repeat of the current values and changes nothing', () => {
      spec.given([created]).when(change({ displayName: 'Eng', externalId: 'x-1' })).thenNothingHappened();
      spec.given([created]).when(change({})).thenNothingHappened();
      const renamed: ScimGroupDecidedEvent = { type: 'ScimGroupRenamed', data: { groupId, scope, from: 'Eng', to: 'Ops' }, occurredAt: T0 };
      spec.given([created, renamed]).when(change({ displayName: 'Ops' })).thenNothingHappened();
    });

    it('refuses an invalid new name', () => {
      spec.given([created]).when(change({ displayName: ' ' })).thenThrows(InvalidCommand, (e) => e.attribute === 'displayName');
    });

    it('does not find a group that is unknown, deleted or of another scope', () => {
      spec.given([]).when(change({ displayName: 'X' })).thenThrows(ResourceNotFound);
      spec.given([created, deleted]).when(change({ displayName: 'X' })).thenThrows(ResourceNotFound);
      spec
        .given([created])
        .when({ type: 'ChangeScimGroup', groupId, scope: 'group:other', displayName: 'X', now })
        .thenThrows(ResourceNotFound, (e) => e.id === groupId);
    });
  });

  describe('delete', () => {
    it('deletes, naming the name it gives back', () => {
      spec.given([created]).when({ type: 'DeleteScimGroup', groupId, scope, now }).then([
        { type: 'ScimGroupDeleted', data: { groupId, scope, displayName: 'Eng' }, occurredAt: now },
      ]);
    });

    it('does not find a group deleted before (a repeated DELETE is a 404)', () => {
      spec.given([created, deleted]).when({ type: 'DeleteScimGroup', groupId, scope, now }).thenThrows(ResourceNotFound);
    });
  });

  it('stores the data with the keys in the order the log has always had (audit hash chains hash the JSON)', () => {
    const events = scimGroupDecider.decide(change({ displayName: 'Ops', externalId: 'x-2' }), evolve(initialState(), created));
    expect(events.map((e) => JSON.stringify(e.data))).toStrictEqual([
      '{"groupId":"g-1","scope":"application","from":"Eng","to":"Ops"}',
      '{"groupId":"g-1","scope":"application","from":"x-1","to":"x-2"}',
    ]);
  });

  it('evolves created and lastModified from the events’ own times', () => {
    const later: ScimGroupDecidedEvent = { type: 'ScimGroupExternalIdChanged', data: { groupId, scope, from: 'x-1' }, occurredAt: now };
    const state = [created, later].reduce(evolve, initialState());
    expect(state).toStrictEqual({ exists: true, deleted: false, id: groupId, scope, displayName: 'Eng', externalId: undefined, created: T0, lastModified: now });
  });

  describe('displayName reservation', () => {
    const fold = (events: ScimGroupDecidedEvent[]) => events.reduce(evolve, initialState());
    const rename = (to: string): ScimGroupDecidedEvent => ({ type: 'ScimGroupRenamed', data: { groupId, scope, from: 'Eng', to }, occurredAt: now });

    it('claims on create, moves on a rename, is given back on delete', () => {
      expect(displayNameReservations(initialState(), fold([created]))).toStrictEqual({ claim: 'Eng' });
      expect(displayNameReservations(fold([created]), fold([created, rename('Ops')]))).toStrictEqual({ claim: 'Ops', release: 'Eng' });
      expect(displayNameReservations(fold([created]), fold([created, deleted]))).toStrictEqual({ release: 'Eng' });
    });

    it('stays put when the new name folds to the old one (case only)', () => {
      expect(displayNameReservations(fold([created]), fold([created, rename('ENG')]))).toStrictEqual({});
    });
  });
});

describe('SCIM group member operations', () => {
  it('adds and removes, a later operation winning over an earlier one', () => {
    expect(memberChanges([{ op: 'add', ids: ['a', 'b'] }, { op: 'remove', ids: ['b', 'c'] }], [])).toStrictEqual({ add: ['a'], remove: ['b', 'c'] });
    expect(memberChanges([{ op: 'remove', ids: ['a'] }, { op: 'add', ids: ['a'] }], [])).toStrictEqual({ add: ['a'], remove: [] });
  });

  it('counts a repeated add or remove once (the account decider then records nothing for a member it already has)', () => {
    expect(memberChanges([{ op: 'add', ids: ['a', 'a'] }, { op: 'add', ids: ['a'] }], ['a'])).toStrictEqual({ add: ['a'], remove: [] });
    expect(memberChanges([{ op: 'remove', ids: ['z'] }, { op: 'remove', ids: ['z'] }], [])).toStrictEqual({ add: [], remove: ['z'] });
  });

  it('replaces the whole list: removes those not kept, adds the kept', () => {
    expect(memberChanges([{ op: 'replace', ids: ['b', 'c'] }], ['a', 'b'])).toStrictEqual({ add: ['b', 'c'], remove: ['a'] });
  });

  it('clears the list, including members added earlier in the same request', () => {
    expect(memberChanges([{ op: 'add', ids: ['n'] }, { op: 'removeAll' }], ['a'])).toStrictEqual({ add: [], remove: ['a', 'n'] });
  });

  it('refuses members that are not live users of the scope, counting and placing them without echoing them', () => {
    const live = new Map([['a', 'acct-a']]);
    expect(() => requireLiveMembers(['a'], live)).not.toThrow();
    expect(() => requireLiveMembers(['a', 'bob@example.com', 'x'], live)).toThrow(
      new InvalidCommand('2 of the 3 members added do not refer to a user in this scope (the first is number 2 of the members added)', 'members'),
    );
    try {
      requireLiveMembers(['bob@example.com'], live);
    } catch (e) {
      expect((e as Error).message).not.toContain('bob');
    }
  });
});
