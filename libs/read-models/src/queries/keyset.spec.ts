import fc from 'fast-check';
import type { RecordedEvent } from '@app/event-store';
import { openSqliteDatabase, type SqliteDb } from '@app/event-store/adapters';
import { tableNamer } from '@app/projections';
import { compileFilterToSql, compileSortKey, parseFilter, resolveAttribute, type SortKey } from '@app/scim';
import { scimGroupsProjection, type ScimGroupsHandle } from '../scim-groups.projection';
import { scimUsersProjection, type ScimUsersHandle } from '../scim-users.projection';
import type { ListQuery } from '../scan-pool';
import { keysetAfter } from './keyset';
import { GROUP_COLUMNS } from './scim-group.query-handlers';
import { USER_COLUMNS } from './scim-user.query-handlers';

describe('keysetAfter: a walk page by page gives exactly the ordered list', () => {
  let db: SqliteDb;
  beforeEach(() => {
    db = openSqliteDatabase({ filename: ':memory:' });
    db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, k)');
  });
  afterEach(() => db.close());

  it('for sort keys with NULLs, duplicates and mixed types, ascending and descending, at every page size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(null, 'a', 'b', 'c', 'A', '', 1, 2), { maxLength: 40 }),
        fc.constantFrom<'ASC' | 'DESC' | undefined>('ASC', 'DESC', undefined),
        fc.integer({ min: 1, max: 7 }),
        fc.boolean(),
        (drawn, dir, count, nullable) => {
          // A NOT NULL column gets keys without NULL and the conditions without the NULL case.
          const keys = nullable ? drawn : drawn.map((k) => k ?? 'b');
          db.exec('DELETE FROM t');
          const insert = db.prepare('INSERT INTO t (seq, k) VALUES (?, ?)');
          keys.forEach((k, i) => insert.run(i * 3 + 1, k));
          const sort: SortKey | undefined = dir && { expr: 'k', dir, nullable };
          const order = sort ? `k ${sort.dir}, seq ${sort.dir}` : 'seq ASC';
          const all = (db.prepare(`SELECT seq FROM t ORDER BY ${order}`).all() as { seq: number }[]).map((r) => r.seq);
          const walked: number[] = [];
          let after: { seq: number; key?: string | number | null } | undefined;
          for (;;) {
            const ks = after && keysetAfter(after, sort);
            const rows = db.prepare(`SELECT seq, k FROM t ${ks ? `WHERE ${ks.sql}` : ''} ORDER BY ${order} LIMIT ?`).all(...(ks?.params ?? []), count) as { seq: number; k: string | number | null }[];
            walked.push(...rows.map((r) => r.seq));
            if (rows.length < count) break;
            const last = rows[rows.length - 1];
            after = sort ? { seq: last.seq, key: last.k } : { seq: last.seq };
          }
          expect(walked).toEqual(all);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function provisioned(position: number, i: number, scope: string): RecordedEvent {
  return {
    id: `e${position}`,
    streamId: `account-a${i}`,
    revision: 0n,
    position: BigInt(position),
    type: 'UserProvisioned',
    data: { accountId: `a${i}`, identityId: `i${i}`, scope, attributes: { userName: `user${i}@x.test`, ...(i % 3 ? { externalId: `x${i}` } : {}) }, active: i % 2 === 0 } as RecordedEvent['data'],
    metadata: { occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString() },
    recordedAt: new Date('2026-01-01T00:00:00.000Z'),
  };
}

/**
 * The cost of a cursor page does not depend on its depth: the page's SQL starts with one index
 * seek to the position (SEARCH … USING INDEX with the keyset's range), never a SCAN of the
 * scope and never a sort of everything after the position. Checked on the SQL the projections
 * really run, captured from `prepare`.
 */
describe('cursor pages: one index seek (EXPLAIN QUERY PLAN)', () => {
  let db: SqliteDb;
  let users: ScimUsersHandle;
  let groups: ScimGroupsHandle;
  let statements: string[];
  beforeAll(() => {
    db = openSqliteDatabase({ filename: ':memory:' });
    db.function('scim_fold', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : s));
    const realPrepare = db.prepare.bind(db);
    statements = [];
    (db as unknown as { prepare: (sql: string) => unknown }).prepare = (sql: string) => {
      statements.push(sql);
      return realPrepare(sql);
    };
    const tu = tableNamer(scimUsersProjection, 1);
    scimUsersProjection.create(db, tu);
    users = scimUsersProjection.open(db, tu);
    const tg = tableNamer(scimGroupsProjection, 1);
    scimGroupsProjection.create(db, tg);
    groups = scimGroupsProjection.open(db, tg);
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) users.apply(provisioned(i * 2 + 1, i, i % 2 ? 'application' : 'group:g'));
      for (let i = 0; i < 300; i++) {
        const data = { groupId: `g${i}`, scope: i % 2 ? 'application' : 'group:g', displayName: `team ${i}` };
        groups.apply({ ...provisioned(10_000 + i, i, 'application'), streamId: `scimGroup-g${i}`, type: 'ScimGroupCreated', data });
      }
    })();
  });
  afterAll(() => db.close());

  /** The plan of the page statement a list ran last, with the parameters it ran with. */
  function planOf(run: () => unknown, params: unknown[]): string {
    const before = statements.length;
    run();
    const page = statements.slice(before).find((s) => /ORDER BY/.test(s)) ?? statements.filter((s) => /cursor_seq/.test(s)).pop();
    if (!page) throw new Error('no page statement was prepared');
    return (db.prepare(`EXPLAIN QUERY PLAN ${page}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
  }

  const userSort = (by: string, order?: string) => compileSortKey(by, order, USER_COLUMNS, (p) => resolveAttribute('User', p));

  it('Users in creation order: a seek into (scope, deleted, seq)', () => {
    const query: ListQuery = { offset: 0, limit: 101, positions: {}, keyset: keysetAfter({ seq: 4001 }, undefined) };
    const plan = planOf(() => users.list('application', query), ['application', 4001, 101]);
    expect(plan).toMatch(/SEARCH .*USING INDEX \S+_scope_seq \(scope=\? AND deleted=\? AND seq>\?\)/);
    expect(plan).not.toMatch(/SCAN|TEMP B-TREE/);
  });

  it('Users sorted by userName, either direction: a seek into (scope, user_name_folded)', () => {
    for (const order of ['ascending', 'descending']) {
      const sort = userSort('userName', order) as SortKey;
      const ks = keysetAfter({ seq: 4001, key: 'user2000@x.test' }, sort);
      const query: ListQuery = { offset: 0, limit: 101, orderBy: `${sort.expr} ${sort.dir}, seq ${sort.dir}`, positions: { keyExpr: sort.expr }, keyset: ks };
      const plan = planOf(() => users.list('application', query), ['application', ...ks.params, 101, 0]);
      expect(plan).toMatch(/SEARCH .*USING INDEX \S+_scope_user_name \(scope=\? AND user_name_folded[<>]\?\)/);
      // Only ties on userName are sorted (by seq), a run at a time: never all rows after the position.
      expect(plan).not.toMatch(/SCAN|TEMP B-TREE FOR ORDER BY/);
    }
  });

  it('Users filtered on an indexed attribute: the filter index, whatever the depth', () => {
    const where = compileFilterToSql(parseFilter('userName sw "user2"', (p) => resolveAttribute('User', p)), USER_COLUMNS);
    const ks = keysetAfter({ seq: 4001 }, undefined);
    const query: ListQuery = { where, offset: 0, limit: 11, positions: {}, keyset: ks };
    const plan = planOf(() => users.list('application', query), ['application', ...where.params, ...ks.params, 11, 0]);
    expect(plan).toMatch(/SEARCH .*USING INDEX/);
    expect(plan).not.toMatch(/SCAN/);
  });

  it('Groups in creation order and by displayName: a seek, no scan', () => {
    const ks = keysetAfter({ seq: 10 }, undefined);
    const plan = planOf(() => groups.list('application', { offset: 0, limit: 11, positions: {}, keyset: ks }), ['application', 10, 11, 0]);
    expect(plan).toMatch(/SEARCH .*USING INDEX \S+_scope_seq \(scope=\? AND deleted=\? AND seq>\?\)/);
    const sort = compileSortKey('displayName', 'ascending', GROUP_COLUMNS, (p) => resolveAttribute('Group', p)) as SortKey;
    const byName = keysetAfter({ seq: 10, key: 'team' }, sort);
    const sorted = planOf(
      () => groups.list('application', { offset: 0, limit: 11, orderBy: `${sort.expr} ${sort.dir}, seq ${sort.dir}`, positions: { keyExpr: sort.expr }, keyset: byName }),
      ['application', ...byName.params, 11, 0],
    );
    expect(sorted).toMatch(/SEARCH .*USING INDEX \S+_scope_name \(scope=\? AND display_name_folded>\?\)/);
    expect(sorted).not.toMatch(/SCAN|TEMP B-TREE FOR ORDER BY/);
  });
});
