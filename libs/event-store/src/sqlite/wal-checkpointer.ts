import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

export interface WalCheckpointerOptions {
  /** How often the worker copies committed WAL frames into the database file. */
  readonly intervalMs?: number;
  /** Above this WAL size the writer checkpoints itself, so the file cannot grow without bound. */
  readonly maxWalBytes?: number;
}

// The worker's whole program. A string rather than a file so that it runs the same from the
// TypeScript sources (tests) and from the build; better-sqlite3 comes by absolute path.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
const run = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or closing: the next tick tries again.
  }
};
const timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (m) => {
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
  private constructor(
    private readonly db: Database,
    private readonly worker: Worker,
    private readonly walFile: string,
    private readonly maxWalBytes: number,
    private readonly guard: NodeJS.Timeout,
  ) {}

  /** Starts the worker, then turns the connection's own auto-checkpoint off. */
  static async start(db: Database, filename: string, options: WalCheckpointerOptions = {}): Promise<WalCheckpointer> {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), filename, intervalMs: options.intervalMs ?? 100 },
    });
    worker.unref();
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    db.pragma('wal_autocheckpoint = 0');
    const maxWalBytes = options.maxWalBytes ?? 256 * 1024 * 1024;
    const walFile = `${filename}-wal`;
    let self: WalCheckpointer | undefined = undefined;
    const guard = setInterval(() => self?.bound(), 2000);
    guard.unref();
    self = new WalCheckpointer(db, worker, walFile, maxWalBytes, guard);
    return self;
  }

  /**
   * Under a write load that never pauses, passive checkpoints may never find the WAL fully
   * copied, and SQLite only rewinds a WAL that is. Past the bound, the writer waits once.
   */
  private bound(): void {
    if (!this.db.open) return;
    let size: number;
    try {
      size = statSync(this.walFile).size;
    } catch {
      return;
    }
    if (size > this.maxWalBytes) this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async stop(): Promise<void> {
    clearInterval(this.guard);
    const stopped = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('stop');
    await stopped;
    // The connection may outlive the worker (tests reuse it): give it its own checkpoints back.
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }
}
