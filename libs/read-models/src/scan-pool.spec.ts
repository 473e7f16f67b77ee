import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { foldForMatch } from '@app/identity';
import { type ListPlan, ScanPool, ScanQueueFull } from './scan-pool';

describe('ScanPool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scan-pool-'));
  const file = join(dir, 'db.sqlite');
  const db = new Database(file);
  let pool: ScanPool;

  beforeAll(async () => {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (scope TEXT, seq INTEGER, name TEXT)');
    pool = await ScanPool.start(file, { workers: 1, maxQueuedPerTenant: 2 });
  });
  afterAll(async () => {
    await pool.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (scope: string, folded: string): ListPlan => ({
    count: { sql: 'SELECT COUNT(*) AS n FROM t WHERE scope = ? AND scim_fold(name) = ?', params: [scope, folded] },
    page: { sql: 'SELECT name FROM t WHERE scope = ? AND scim_fold(name) = ? ORDER BY seq LIMIT ? OFFSET ?', params: [scope, folded] },
    offset: 0,
    limit: 10,
  });

  it('reads what the writer committed, folding in SQL exactly as the request thread does', async () => {
    // Full-width, case, sharp s and a zero-width space: the whole fold, not a lower-case.
    const names = ['ＳＴＲＡßE', 'Stra\u200Bsse', 'other'];
    db.prepare('INSERT INTO t VALUES (?, ?, ?)').run('a', 1, names[0]);
    db.prepare('INSERT INTO t VALUES (?, ?, ?)').run('a', 2, names[1]);
    db.prepare('INSERT INTO t VALUES (?, ?, ?)').run('a', 3, names[2]);
    const result = await pool.run<{ name: string }>('a', plan('a', foldForMatch('strasse')));
    expect(result).toEqual({ total: 2, rows: [{ name: names[0] }, { name: names[1] }] });
  });

  it('bounds the scans one tenant may have waiting, and serves tenants in turn', async () => {
    const order: string[] = [];
    const run = (scope: string) => pool.run(scope, plan(scope, 'x')).then(() => order.push(scope));
    const busy = [run('a'), run('a')];
    await expect(pool.run('a', plan('a', 'x'))).rejects.toBeInstanceOf(ScanQueueFull);
    const other = run('b');
    await Promise.all([...busy, other]);
    // 'a' got the idle worker first; 'b' then went ahead of a's second scan.
    expect(order).toEqual(['a', 'b', 'a']);
    // Finished scans free their places.
    await expect(pool.run('a', plan('a', 'x'))).resolves.toEqual({ total: 0, rows: [] });
  });

  it('fails a scan with the database error, and keeps serving', async () => {
    await expect(pool.run('a', { ...plan('a', 'x'), count: { sql: 'SELECT nope FROM missing', params: [] } })).rejects.toThrow(/no such table/);
    await expect(pool.run('a', plan('a', 'x'))).resolves.toEqual({ total: 0, rows: [] });
  });
});
