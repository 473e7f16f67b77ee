import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

export interface WalCheckpointerOptions {
  /** How often the worker copies committed WAL frames into the database file. */
  readonly intervalMs?: number;
  /** WAL frames past which a pass runs with commits held, so that the WAL can rewind. */
  readonly rewindFrames?: number;
  /**
   * Runs `pass` while the writer holds its commits (`SqliteEventStore.holdCommits`). Without
   * it, the writer's own connection finishes the pass (copy and fsync on its thread).
   */
  readonly quiesce?: (pass: () => Promise<void>) => Promise<void>;
  /** Longest a held pass waits for the worker's answer (default 2 s). */
  readonly passTimeoutMs?: number;
}

// The worker's whole program. A string rather than a file so that it runs the same from the
// TypeScript sources (tests) and from the build; better-sqlite3 comes by absolute path.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
const run = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    return r;
  } catch {
    // Busy or closing: the next tick tries again.
    return undefined;
  }
};
const timer = setInterval(() => {
  const r = run();
  if (r && r.log >= workerData.rewindFrames) parentPort.postMessage(r);
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'final') {
    parentPort.postMessage({ final: run() ?? null });
    return;
  }
  if (m !== 'stop') return;
  clearInterval(timer);
  run();
  db.close();
  parentPort.postMessage('stopped');
  parentPort.close();
});
parentPort.postMessage('ready');
`;

/**
 * Checkpoints the WAL from a worker thread with its own connection, instead of inside the
 * commit that crosses SQLite's auto-checkpoint threshold. A checkpoint copies pages into the
 * database file and fsyncs it: on the request thread that is a pause every few hundred
 * writes; here it runs on the other core. PASSIVE checkpoints never block the writer or
 * readers; durability is unchanged (the WAL is synced before its frames are copied).
 */
export class WalCheckpointer {
  private finishing = false;
  private stopped = false;
  private exited = false;

  private constructor(
    private readonly db: Database,
    private readonly worker: Worker,
    private readonly quiesce?: (pass: () => Promise<void>) => Promise<void>,
    private readonly passTimeoutMs = 2000,
  ) {}

  /** Starts the worker, then turns the connection's own auto-checkpoint off. */
  static async start(db: Database, filename: string, options: WalCheckpointerOptions = {}): Promise<WalCheckpointer> {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        filename,
        intervalMs: options.intervalMs ?? 100,
        rewindFrames: options.rewindFrames ?? 4096,
      },
    });
    worker.unref();
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    db.pragma('wal_autocheckpoint = 0');
    const self = new WalCheckpointer(db, worker, options.quiesce, options.passTimeoutMs);
    // A worker that dies must not take the server with it, nor leave the WAL unbounded.
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      self.exited = true;
      if (!self.stopped && db.open) db.pragma('wal_autocheckpoint = 1000');
    });
    worker.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'log' in m) void self.finishPass();
    });
    return self;
  }

  /**
   * SQLite rewinds the WAL only once a checkpoint has copied every frame in it, and under a
   * write load that never pauses the worker's passes never catch the last frames. When the
   * WAL has grown long, one pass runs with the writer's commits held (they queue and go out
   * as one group after it), so the next transaction starts the WAL over. A long WAL costs
   * every page look-up a walk through its index, and disk space.
   */
  private async finishPass(): Promise<void> {
    if (!this.db.open || this.finishing) return;
    this.finishing = true;
    try {
      if (this.quiesce) {
        await this.quiesce(() => this.workerPass());
      } else {
        try {
          this.db.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // Busy (the worker is in a pass): it will ask again.
        }
      }
    } finally {
      this.finishing = false;
    }
  }

  /**
   * One pass in the worker, resolved when it reports back, exits, or after a bound: commits
   * are held meanwhile, so a worker that dies or hangs must not hold them for ever.
   */
  private workerPass(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.worker.off('message', done);
        this.worker.off('exit', finish);
        resolve();
      };
      const done = (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'final' in m) finish();
      };
      const timer = setTimeout(finish, this.passTimeoutMs);
      this.worker.on('message', done);
      this.worker.once('exit', finish);
      this.worker.postMessage('final');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const stopped = new Promise<void>((resolve) => {
      const done = (m: unknown) => {
        if (m === 'stopped') resolve();
      };
      this.worker.on('message', done);
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('stop');
    await stopped;
    // The connection may outlive the worker (tests reuse it): give it its own checkpoints back.
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }
}
