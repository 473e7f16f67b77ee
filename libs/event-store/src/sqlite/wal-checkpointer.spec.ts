import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase, type SqliteDb } from './sqlite-database';
import { WalCheckpointer } from './wal-checkpointer';

describe('WalCheckpointer', () => {
  let dir: string;
  let db: SqliteDb;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wal-'));
    db = openSqliteDatabase({ filename: join(dir, 'x.db') });
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });
  afterEach(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies committed frames into the database file from its own thread, so the WAL keeps rewinding', async () => {
    const checkpointer = await WalCheckpointer.start(db, db.name, { intervalMs: 5 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 60; i++) {
      db.transaction(() => {
        for (let k = 0; k < 100; k++) insert.run('x'.repeat(200));
      })();
      await new Promise((r) => setTimeout(r, 10));
    }
    // 6,000 rows of 200 bytes: over 1.2 MB of frames. Without a checkpoint (the writer's own
    // is off) the WAL would hold them all; rewound after each worker checkpoint, it stays small.
    expect(statSync(`${db.name}-wal`).size).toBeLessThan(400_000);
    await checkpointer.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 6000 });
  });

  it('gives the writer its own auto-checkpoint back when the worker dies', async () => {
    const checkpointer = await WalCheckpointer.start(db, db.name);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const worker = (checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker;
    await worker.terminate();
    await new Promise((r) => setTimeout(r, 20));
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });

  it("never holds the writer's commits for a worker that is gone", async () => {
    let held = 0;
    const checkpointer = await WalCheckpointer.start(db, db.name, {
      quiesce: async (pass) => {
        held++;
        await pass();
      },
    });
    const internals = checkpointer as unknown as {
      worker: { terminate(): Promise<number> };
      finishPass(): Promise<void>;
    };
    await internals.worker.terminate();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await internals.finishPass();
    expect(held).toBe(1);
    expect(Date.now() - t0).toBeLessThan(500);
  });
});
