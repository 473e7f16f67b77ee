import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '@app/decider/testing';
import { InvalidCommand, ResourceNotFound } from '../errors';
import { evolve, type GroupCommand, groupDecider, type GroupDecidedEvent, groupHolds, groupReservations, initialState } from './group.decider';

const spec = DeciderSpecification.for(groupDecider);
const T0 = '2026-01-01T00:00:00.000Z';
const now = '2026-01-02T00:00:00.000Z';

const create = (c: Partial<Extract<GroupCommand, { type: 'CreateGroup' }>> = {}): GroupCommand => ({
  type: 'CreateGroup',
  groupId: 'g-1',
  path: 'acme',
  name: 'Acme Inc',
  now,
  ...c,
});
const settings = (c: Partial<Extract<GroupCommand, { type: 'ChangeGroupSettings' }>>): GroupCommand => ({
  type: 'ChangeGroupSettings',
  fullPath: 'acme',
  now,
  ...c,
});
const acme: GroupDecidedEvent = {
  type: 'GroupCreated',
  data: { groupId: 'g-1', path: 'acme', name: 'Acme Inc', fullPath: 'acme', topLevelId: 'g-1', defaultMembershipRole: 'guest', verifiedDomains: ['acme.example'] },
  occurredAt: T0,
};
const eng: GroupDecidedEvent = {
  type: 'GroupCreated',
  data: { groupId: 'g-2', path: 'eng', name: 'Eng', fullPath: 'acme/eng', parentId: 'g-1', topLevelId: 'g-1', defaultMembershipRole: 'guest', verifiedDomains: [] },
  occurredAt: T0,
};

describe('group decider', () => {
  describe('create', () => {
    it('creates a top-level group, its own top level, guests by default, domains lower-cased once', () => {
      spec
        .given([])
        .when(create({ verifiedDomains: ['Acme.Example', 'acme.example', 'acme.test'] }))
        .then([
          {
            type: 'GroupCreated',
            data: { groupId: 'g-1', path: 'acme', name: 'Acme Inc', fullPath: 'acme', topLevelId: 'g-1', defaultMembershipRole: 'guest', verifiedDomains: ['acme.example', 'acme.test'] },
            occurredAt: now,
          },
        ]);
    });

    it('creates a subgroup under the parent the handler found', () => {
      spec
        .given([])
        .when(create({ groupId: 'g-2', path: 'eng', name: 'Eng', parentPath: 'acme', parent: { id: 'g-1', fullPath: 'acme', topLevelId: 'g-1' }, defaultMembershipRole: 'developer' }))
        .then([
          {
            type: 'GroupCreated',
            data: { groupId: 'g-2', path: 'eng', name: 'Eng', fullPath: 'acme/eng', parentId: 'g-1', topLevelId: 'g-1', defaultMembershipRole: 'developer', verifiedDomains: [] },
            occurredAt: now,
          },
        ]);
    });

    it.each(['', 'a b', '-x', 'repo.git', 'feed.atom', 'x'.repeat(256)])('refuses the path %j', (path) => {
      spec.given([]).when(create({ path })).thenThrows(InvalidCommand, (e) => e.attribute === 'path');
    });

    it('refuses a blank or too long name', () => {
      spec.given([]).when(create({ name: ' ' })).thenThrows(InvalidCommand, (e) => e.attribute === 'name');
      spec.given([]).when(create({ name: 'n'.repeat(256) })).thenThrows(InvalidCommand, (e) => e.attribute === 'name');
    });

    it('does not find a parent that is not there, after checking path and name', () => {
      spec.given([]).when(create({ parentPath: 'nope' })).thenThrows(ResourceNotFound, (e) => e.id === 'nope');
      spec.given([]).when(create({ parentPath: 'nope', path: 'x.git' })).thenThrows(InvalidCommand);
    });

    it('refuses an invalid domain, and any domain on a subgroup', () => {
      spec.given([]).when(create({ verifiedDomains: ['not a domain'] })).thenThrows(InvalidCommand, (e) => e.attribute === 'verifiedDomains');
      spec
        .given([])
        .when(create({ parentPath: 'acme', parent: { id: 'g-1', fullPath: 'acme', topLevelId: 'g-1' }, verifiedDomains: ['eng.example'] }))
        .thenThrows(InvalidCommand, (e) => /top-level/.test(e.message));
    });
  });

  describe('settings', () => {
    it('changes the default membership role, naming the old one', () => {
      spec.given([acme]).when(settings({ defaultMembershipRole: 'reporter' })).then([
        { type: 'GroupSettingsChanged', data: { groupId: 'g-1', defaultMembershipRole: { from: 'guest', to: 'reporter' } }, occurredAt: now },
      ]);
    });

    it('replaces the verified domains, and both settings in one event', () => {
      spec.given([acme]).when(settings({ defaultMembershipRole: 'owner', verifiedDomains: ['ACME.test'] })).then([
        {
          type: 'GroupSettingsChanged',
          data: { groupId: 'g-1', defaultMembershipRole: { from: 'guest', to: 'owner' }, verifiedDomains: { from: ['acme.example'], to: ['acme.test'] } },
          occurredAt: now,
        },
      ]);
    });

    it('changes nothing for the current values, whatever their order or case', () => {
      const two: GroupDecidedEvent = { type: 'GroupSettingsChanged', data: { groupId: 'g-1', verifiedDomains: { from: ['acme.example'], to: ['a.example', 'b.example'] } }, occurredAt: T0 };
      spec.given([acme]).when(settings({ defaultMembershipRole: 'guest' })).thenNothingHappened();
      spec.given([acme, two]).when(settings({ verifiedDomains: ['B.example', 'a.example'] })).thenNothingHappened();
      spec.given([acme]).when(settings({})).thenNothingHappened();
    });

    it('evolves from the latest settings', () => {
      const role: GroupDecidedEvent = { type: 'GroupSettingsChanged', data: { groupId: 'g-1', defaultMembershipRole: { from: 'guest', to: 'developer' } }, occurredAt: T0 };
      spec.given([acme, role]).when(settings({ defaultMembershipRole: 'developer' })).thenNothingHappened();
      spec.given([acme, role]).when(settings({ defaultMembershipRole: 'guest' })).then([
        { type: 'GroupSettingsChanged', data: { groupId: 'g-1', defaultMembershipRole: { from: 'developer', to: 'guest' } }, occurredAt: now },
      ]);
    });

    it('refuses an invalid domain, and domains on a subgroup (clearing them is fine)', () => {
      spec.given([acme]).when(settings({ verifiedDomains: ['x_'] })).thenThrows(InvalidCommand, (e) => e.attribute === 'verifiedDomains');
      spec.given([eng]).when(settings({ fullPath: 'acme/eng', verifiedDomains: ['eng.example'] })).thenThrows(InvalidCommand, (e) => /top-level/.test(e.message));
      spec.given([eng]).when(settings({ fullPath: 'acme/eng', verifiedDomains: [] })).thenNothingHappened();
    });

    it('does not find a group without a stream', () => {
      spec.given([]).when(settings({ defaultMembershipRole: 'owner' })).thenThrows(ResourceNotFound, (e) => e.id === 'acme');
    });
  });

  it('stores the data with the keys in the order the log has always had (audit hash chains hash the JSON)', () => {
    const [created] = groupDecider.decide(create({ groupId: 'g-2', path: 'eng', name: 'Eng', parentPath: 'acme', parent: { id: 'g-1', fullPath: 'acme', topLevelId: 'g-1' } }), initialState());
    expect(JSON.stringify(created.data)).toBe(
      '{"groupId":"g-2","path":"eng","name":"Eng","fullPath":"acme/eng","parentId":"g-1","topLevelId":"g-1","defaultMembershipRole":"guest","verifiedDomains":[]}',
    );
    const [changed] = groupDecider.decide(settings({ verifiedDomains: [], defaultMembershipRole: 'owner' }), evolve(initialState(), acme));
    expect(JSON.stringify(changed.data)).toBe(
      '{"groupId":"g-1","defaultMembershipRole":{"from":"guest","to":"owner"},"verifiedDomains":{"from":["acme.example"],"to":[]}}',
    );
  });

  describe('reservations', () => {
    const fold = (events: GroupDecidedEvent[]) => events.reduce(evolve, initialState());
    const domains = (to: string[]): GroupDecidedEvent => ({ type: 'GroupSettingsChanged', data: { groupId: 'g-1', verifiedDomains: { from: ['acme.example'], to } }, occurredAt: now });

    it('claims the full path and the domains on create', () => {
      expect(groupReservations(initialState(), fold([acme]))).toStrictEqual({
        claims: [
          { kind: 'groupPath', value: 'acme' },
          { kind: 'domain', value: 'acme.example' },
        ],
        releases: [],
      });
    });

    it('claims added domains and gives back removed ones', () => {
      expect(groupReservations(fold([acme]), fold([acme, domains(['acme.test'])]))).toStrictEqual({
        claims: [{ kind: 'domain', value: 'acme.test' }],
        releases: [{ kind: 'domain', value: 'acme.example' }],
      });
    });

    it('knows what the group holds (the orphan check)', () => {
      expect(groupHolds(fold([acme]), 'domain', 'acme.example')).toBe(true);
      expect(groupHolds(fold([acme, domains([])]), 'domain', 'acme.example')).toBe(false);
      expect(groupHolds(fold([acme]), 'groupPath', 'acme')).toBe(true);
      expect(groupHolds(initialState(), 'groupPath', 'acme')).toBe(false);
    });
  });
});
