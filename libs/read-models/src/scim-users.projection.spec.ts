import fc from 'fast-check';
import { type RecordedEvent } from '@app/event-store';
import { openSqliteDatabase, type SqliteDb } from '@app/event-store/adapters';
import { tableNamer } from '@app/projections';
import { scimUsersProjection, type ScimUsersHandle } from './scim-users.projection';

function event(position: number, type: string, data: Record<string, unknown>): RecordedEvent {
  return {
    id: `e${position}`,
    streamId: `account-${String(data.accountId)}`,
    revision: 0n,
    position: BigInt(position),
    type,
    data: data as RecordedEvent['data'],
    metadata: { occurredAt: '2026-01-01T00:00:00.000Z' },
    recordedAt: new Date('2026-01-01T00:00:00.000Z'),
  };
}

describe('scim-users projection: paging by live-user blocks', () => {
  let db: SqliteDb;
  let users: ScimUsersHandle;
  beforeEach(() => {
    db = openSqliteDatabase({ filename: ':memory:' });
    const t = tableNamer(scimUsersProjection, 1);
    scimUsersProjection.create(db, t);
    users = scimUsersProjection.open(db, t);
  });
  afterEach(() => db.close());

  it('gives every page and total exactly as a walk of the creation order would, across blocks, deletions and reactivations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 1, max: 3000 }),
            scope: fc.constantFrom('instance', 'group:g'),
            fate: fc.constantFrom('live', 'deleted', 'revived'),
          }),
          {
            maxLength: 60,
          },
        ),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 12 }),
        (specs, offset, limit) => {
          db.exec(`DELETE FROM scim_users__g1; DELETE FROM scim_user_blocks__g1;`);
          let position = 0;
          specs.forEach((s, i) => {
            position += s.gap;
            const ids = { accountId: `a${i}`, identityId: `i${i}`, scope: s.scope };
            users.apply(
              event(position, 'UserProvisioned', { ...ids, attributes: { userName: `u${i}` }, active: true }),
            );
            if (s.fate !== 'live') users.apply(event(++position, 'IdentityDeleted', ids));
            if (s.fate === 'revived') users.apply(event(++position, 'IdentityReactivated', ids));
          });
          for (const scope of ['instance', 'group:g']) {
            const expected = specs
              .map((s, i) => ({ s, id: `i${i}` }))
              .filter(({ s }) => s.scope === scope && s.fate !== 'deleted')
              .map(({ id }) => id);
            const page = users.list(scope, { offset, limit });
            expect(page.total).toBe(expected.length);
            expect(page.rows.map((r) => r.id)).toEqual(expected.slice(offset, offset + limit));
            expect(users.count(scope, {})).toBe(expected.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the stored document in step with the lifecycle flags (filters read it)', () => {
    const ids = { accountId: 'a1', identityId: 'i1', scope: 'instance' };
    users.apply(event(1, 'UserProvisioned', { ...ids, attributes: { userName: 'ada' }, active: true }));
    const doc = () =>
      JSON.parse(
        (db.prepare('SELECT doc FROM scim_users__g1 WHERE id = ?').get('i1') as { doc: string }).doc,
      ) as Record<string, unknown>;
    users.apply(event(2, 'IdentityDeactivated', ids));
    expect(doc()).toEqual({ userName: 'ada', active: false });
    expect(users.get('instance', 'i1')?.active).toBe(false);
    users.apply(event(3, 'IdentityReactivated', ids));
    expect(doc()).toEqual({ userName: 'ada', active: true });
    users.apply(event(4, 'IdentityDeleted', ids));
    expect(users.get('instance', 'i1')).toBeUndefined();
    expect(users.count('instance', {})).toBe(0);
  });
});
