import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '@app/event-store/testing/postgres-test-database';
import { openValue, sealValue } from './data-key.cipher';
import { DataKeyStore, PersonErasedError } from './data-key-store';
import type { KeyRow, KeyTable } from './data-key-store.port';
import { masterKeyOf } from './master-key';
import { PostgresKeyTable } from './postgres-key-table';
import { SqliteKeyTable } from './sqlite-key-table';

const master = () => masterKeyOf(randomBytes(32));

function keyStoreBehaviour(open: () => Promise<KeyTable>) {
  it('creates one key per person, the same on every call and after a restart', async () => {
    const m = master();
    const table = await open();
    const keys = new DataKeyStore(table, m);
    const a = await keys.keyForSealing('a');
    expect(await keys.keyForSealing('a')).toEqual(a);
    expect(await keys.keyForSealing('b')).not.toEqual(a);
    const again = new DataKeyStore(table, m);
    await again.load(['a']);
    expect(again.peek('a')).toEqual({ state: 'live', key: a });
  });

  it('keeps only the last persons in memory: a person dropped from it gets the same key back, and stays erased', async () => {
    const m = master();
    const table = await open();
    const keys = new DataKeyStore(table, m, undefined, { keysInMemory: 4 });
    const first = await keys.keyForSealing('p0');
    await keys.erase('e0');
    for (let i = 1; i <= 10; i++) await keys.keyForSealing(`p${i}`);
    expect(keys.personsInMemory).toBeLessThanOrEqual(4);
    expect(await keys.keyForSealing('p0')).toEqual(first);
    await expect(keys.keyForSealing('e0')).rejects.toBeInstanceOf(PersonErasedError);
    await keys.load(['p0', 'e0']);
    expect([keys.peek('p0'), keys.peek('e0')]).toEqual([{ state: 'live', key: first }, { state: 'erased' }]);
  });

  it('erases a key for good: peeks say erased, sealing refuses, no key is made again', async () => {
    const table = await open();
    const keys = new DataKeyStore(table, master());
    const sealed = sealValue(await keys.keyForSealing('p'), 'ad', 'jane@example.com');
    expect(await keys.erase('p')).toBe(true);
    expect(keys.peek('p')).toEqual({ state: 'erased' });
    await expect(keys.keyForSealing('p')).rejects.toBeInstanceOf(PersonErasedError);
    const row = await table.get('p');
    expect(row?.wrapped).toBeNull();
    // Another process's view: the tombstone, never a key.
    const other = new DataKeyStore(table, master());
    await other.load(['p']);
    expect(other.peek('p')).toEqual({ state: 'erased' });
    expect(sealed.startsWith('pii:v1:')).toBe(true);
  });

  it('writes the new keys asked for in one turn together: one key per person, each stored before it is handed out', async () => {
    const m = master();
    const table = await open();
    const commits: number[] = [];
    const counting: KeyTable = Object.assign(Object.create(table) as KeyTable, {
      insertManyIfAbsent: (rows: readonly KeyRow[]) => (commits.push(rows.length), table.insertManyIfAbsent!(rows)),
      insertIfAbsent: (row: KeyRow) => (commits.push(1), table.insertIfAbsent(row)),
    });
    const keys = new DataKeyStore(counting, m);
    const ids = ['n1', 'n2', 'n3', 'n1'];
    const handed = await Promise.all(ids.map((id) => keys.keyForSealing(id)));
    expect(commits).toEqual([3]);
    expect(handed[3]).toEqual(handed[0]);
    expect(new Set(handed.map((k) => k.toString('hex'))).size).toBe(3);
    const fresh = new DataKeyStore(table, m);
    await fresh.load(['n1', 'n2', 'n3']);
    expect(['n1', 'n2', 'n3'].map((id) => fresh.peek(id))).toEqual(handed.slice(0, 3).map((key) => ({ state: 'live', key })));
  });

  it('a batch keeps what is already there: another writer\'s key, a tombstone (refused), and a person erased while it was written', async () => {
    const m = master();
    const table = await open();
    const other = await new DataKeyStore(table, m).keyForSealing('theirs');
    await new DataKeyStore(table, m).erase('gone');
    const keys = new DataKeyStore(table, m);
    const theirs = keys.keyForSealing('theirs');
    const gone = keys.keyForSealing('gone');
    const racing = keys.keyForSealing('racing');
    const erasing = keys.erase('racing');
    expect(await theirs).toEqual(other);
    await expect(gone).rejects.toBeInstanceOf(PersonErasedError);
    await expect(racing).rejects.toBeInstanceOf(PersonErasedError);
    await erasing;
    expect((await table.get('racing'))?.wrapped ?? null).toBeNull();
  });

  it('a batch that fails to commit hands out no key, and the next one tries again', async () => {
    const table = await open();
    const keys = new DataKeyStore(table, master());
    const failing: KeyTable = Object.assign(Object.create(table) as KeyTable, {
      insertManyIfAbsent: () => Promise.reject(new Error('disk full')),
      insertIfAbsent: () => Promise.reject(new Error('disk full')),
    });
    const broken = new DataKeyStore(failing, master());
    await expect(Promise.all([broken.keyForSealing('x'), broken.keyForSealing('y')])).rejects.toThrow('disk full');
    expect(broken.peek('x')).toEqual({ state: 'none' });
    expect(await keys.keyForSealing('x')).toHaveLength(32);
  });

  it('a person erased before anything was sealed keeps a tombstone', async () => {
    const table = await open();
    const keys = new DataKeyStore(table, master());
    await keys.erase('never');
    await expect(new DataKeyStore(table, master()).keyForSealing('never')).rejects.toBeInstanceOf(PersonErasedError);
  });

  it('rotates the master key by rewrapping the data keys only', async () => {
    const table = await open();
    const old = master();
    const key = await new DataKeyStore(table, old).keyForSealing('r');
    const next = master();
    const rotating = new DataKeyStore(table, next, old);
    expect(await rotating.rewrapFromPrevious()).toBe(1);
    const after = new DataKeyStore(table, next);
    await after.load(['r']);
    expect(after.peek('r')).toEqual({ state: 'live', key });
    // Without the previous master configured, a key wrapped by it is an error, not a silent erasure.
    const stale = new DataKeyStore(table, master());
    await expect(stale.load(['r'])).rejects.toThrow(/not configured/);
  });
}

describe('data keys on SQLite (their own file)', () => {
  keyStoreBehaviour(async () => new SqliteKeyTable(new Database(':memory:')));

  it("commits keys as durably as the log: the log's synchronous mode, WAL", () => {
    const db = new Database(':memory:');
    new SqliteKeyTable(db, 'FULL');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    const normal = new Database(':memory:');
    new SqliteKeyTable(normal);
    expect(normal.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('opens nothing with a wrong key or moved ciphertext', () => {
    const key = randomBytes(32);
    const sealed = sealValue(key, 'event-1|account-a|userName', 'jdoe');
    expect(openValue(key, 'event-1|account-a|userName', sealed)).toBe('jdoe');
    expect(() => openValue(key, 'event-2|account-a|userName', sealed)).toThrow();
    expect(() => openValue(randomBytes(32), 'event-1|account-a|userName', sealed)).toThrow();
  });
});

const unavailable = postgresUnavailableReason();
(unavailable ? describe.skip : describe)('data keys on PostgreSQL (their own table)', () => {
  let db: TestDatabase;
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
  });
  keyStoreBehaviour(async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pools.push(pool);
    await pool.query('DROP TABLE IF EXISTS scim_data_keys');
    return PostgresKeyTable.open({ query: (sql, params) => pool.query(sql, params), end: () => Promise.resolve() });
  });

  it('creates its table once when several instances start on a fresh database together', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 8 });
    pools.push(pool);
    await pool.query('DROP TABLE IF EXISTS scim_data_keys');
    // Eight connections open first, so the eight CREATEs really run at the same time.
    await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT pg_sleep(0.05)')));
    // Each instance's first query creates the table: CREATE TABLE IF NOT EXISTS is not safe
    // against a concurrent one (a unique violation in pg_type), which must not fail a request.
    const instances = Array.from({ length: 8 }, () => new PostgresKeyTable({ query: (sql, params) => pool.query(sql, params), end: () => Promise.resolve() }));
    const found = await Promise.allSettled(instances.map((t) => t.get('nobody')));
    expect(found.map((r) => r.status)).toEqual(instances.map(() => 'fulfilled'));
  });
});
