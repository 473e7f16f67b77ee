import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase, type SqliteDb } from './sqlite-database';
import { WalCheckpointer } from './wal-checkpointer';
import { waitFor } from '@app/testing';

/**
 * Frames in the WAL and frames already copied into the database, read from the wal-index
 * (the -shm file: `mxFrame` at byte 16 of its header, `nBackfill` at byte 96). Reading it
 * lets the test wait for the worker instead of guessing how long a pass takes on a busy machine.
 */
function walProgress(dbFile: string): { frames: number; backfilled: number } {
  const shm = readFileSync(`${dbFile}-shm`);
  return { frames: shm.readUInt32LE(16), backfilled: shm.readUInt32LE(96) };
}

const until = (condition: () => boolean, what: string) => waitFor(condition, { timeoutMs: 10_000, what });

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
      // The writer's own checkpoints are off: only the worker can copy these frames back.
      await until(() => {
        const p = walProgress(db.name);
        return p.backfilled === p.frames;
      }, 'the worker to copy every committed frame');
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
    await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === 1000, 'auto-checkpoint to come back');
  });

  it("never holds the writer's commits for a worker that is gone", async () => {
    let held = 0;
    const checkpointer = await WalCheckpointer.start(db, db.name, {
      // Far beyond the test's own timeout: the pass can only end because the worker is gone.
      passTimeoutMs: 10 * 60_000,
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
    await internals.finishPass();
    expect(held).toBe(1);
  });
});
