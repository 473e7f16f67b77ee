import type { ReadModelStatement } from '@app/projections';
import { Worker } from 'node:worker_threads';
import { createMatchFold } from '@app/identity';

/** A page of a list: the compiled filter, the order, and where the page starts and ends. */
export interface ListQuery {
  readonly where?: { sql: string; params: readonly (string | number)[] };
  readonly orderBy?: string;
  readonly offset: number;
  readonly limit: number;
  /**
   * Cursor paging: only the rows after the cursor's position, as a condition in the order's
   * terms (see keyset.ts). The total still counts every match.
   */
  readonly keyset?: { sql: string; params: readonly (string | number)[] };
  /** Cursor paging: select each row's place in the order too (`cursor_seq`, and `cursor_key` when sorted). */
  readonly positions?: { readonly keyExpr?: string };
}

type SqlParam = string | number;

/**
 * One page of a list, as SQL: the count of matches and the page itself (`LIMIT ? OFFSET ?`
 * are appended to `page.params`). Built by a projection, run inline or by a scan worker.
 */
export interface ListPlan {
  readonly count: { readonly sql: string; readonly params: readonly SqlParam[] };
  readonly page: { readonly sql: string; readonly params: readonly SqlParam[] };
  readonly offset: number;
  readonly limit: number;
}

export interface PlanResult<Raw> {
  readonly total: number;
  readonly rows: Raw[];
}

/** Runs a plan inline with the caller's statement cache (the worker's program does the same). */
export function runPlan<Raw>(prepare: (sql: string) => ReadModelStatement<unknown[]>, plan: ListPlan): PlanResult<Raw> {
  const total = (prepare(plan.count.sql).get(...plan.count.params) as { n: number }).n;
  if (plan.limit <= 0 || plan.offset >= total) return { total, rows: [] };
  return { total, rows: prepare(plan.page.sql).all(...plan.page.params, plan.limit, plan.offset) as Raw[] };
}

/**
 * Whether a list query walks the stored JSON of every row of the scope: a filter condition on
 * an attribute without its own column, or a sort on one (`json_extract` in the ORDER BY).
 * Such a query costs about a second per 100k users; indexed look-ups cost microseconds.
 */
export function isScan(where: { readonly documentScans?: number } | undefined, orderBy: string | undefined): boolean {
  return (where?.documentScans ?? 0) > 0 || (orderBy?.includes('json_') ?? false);
}

/** What a projection offers for a list a scan worker can run. */
export interface ListSource<Row> {
  list(scope: string, query: ListQuery): { total: number; rows: Row[] };
  listPlan(scope: string, query: ListQuery): ListPlan;
  toRows(raw: readonly unknown[]): Row[];
}

/** A tenant asked for more scans at once than the pool queues for one scope. */
export class ScanQueueFull extends Error {
  constructor(readonly limit: number) {
    super(`Too many searches that scan every resource are queued for this tenant (at most ${limit}); retry after the time in Retry-After`);
    this.name = 'ScanQueueFull';
  }
}

export interface ScanPoolOptions {
  /** Worker threads, each with its own read-only connection (0: run scans inline). */
  readonly workers: number;
  /** Scans one scope may have queued or running; one more is refused (ScanQueueFull). */
  readonly maxQueuedPerTenant: number;
}

// The worker's whole program. A string rather than a file so that it runs the same from the
// TypeScript sources (tests) and from the build (as WalCheckpointer's worker). better-sqlite3
// and the case-folding table come by absolute path; `scim_fold` is rebuilt from the source of
// `createMatchFold`, so every connection folds exactly as the writer's does.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const { caseFold } = require(workerData.caseFolding);
const fold = (${createMatchFold.toString()})(caseFold);
const db = new Database(workerData.filename, { readonly: true, fileMustExist: true });
db.pragma('query_only = 1');
db.function('scim_fold', { deterministic: true }, (s) => (typeof s === 'string' ? fold(s) : s));
// Statements by text; the few shapes a filter compiles to repeat, a rebuild renames tables.
const statements = new Map();
const prepare = (sql) => {
  let s = statements.get(sql);
  if (!s) {
    if (statements.size >= 200) statements.clear();
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
};
parentPort.on('message', (m) => {
  if (m === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const plan = m.plan;
    const total = prepare(plan.count.sql).get(...plan.count.params).n;
    const rows = plan.limit <= 0 || plan.offset >= total ? [] : prepare(plan.page.sql).all(...plan.page.params, plan.limit, plan.offset);
    parentPort.postMessage({ id: m.id, total, rows });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
parentPort.postMessage('ready');
`;

interface Job {
  readonly id: number;
  readonly scope: string;
  readonly plan: ListPlan;
  resolve(result: PlanResult<unknown>): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

/**
 * Runs list queries that scan a whole scope on worker threads, each with a read-only
 * connection to the read models' SQLite file, so the request thread keeps serving every
 * other tenant meanwhile. WAL lets these readers run beside the writer, and each statement
 * reads the last committed state: the caller waits for its own writes to be projected
 * (ReadYourWrites) before it submits. Waiting scans are served round-robin between scopes,
 * so one tenant's burst queues behind itself, not in front of the others; each scope may
 * have a bounded number waiting or running.
 */
export class ScanPool {
  private readonly slots: Slot[] = [];
  /** Waiting jobs per scope; the map's order is the round-robin order. */
  private readonly waiting = new Map<string, Job[]>();
  private readonly perScope = new Map<string, number>();
  private nextId = 1;
  /** When each scope with scans in the pool was last given a worker. */
  private readonly served = new Map<string, number>();
  private turn = 0;
  private closed = false;

  private constructor(
    private readonly filename: string,
    private readonly options: ScanPoolOptions,
  ) {}

  static async start(filename: string, options: ScanPoolOptions): Promise<ScanPool> {
    const pool = new ScanPool(filename, options);
    await Promise.all(Array.from({ length: options.workers }, () => pool.spawn()));
    return pool;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** Runs `plan` for `scope` on a worker; throws ScanQueueFull when the scope has too many waiting. */
  run<Raw>(scope: string, plan: ListPlan): Promise<PlanResult<Raw>> {
    if (this.closed || this.slots.length === 0) return Promise.reject(new Error('scan pool is not running'));
    const queued = this.perScope.get(scope) ?? 0;
    if (queued >= this.options.maxQueuedPerTenant) return Promise.reject(new ScanQueueFull(this.options.maxQueuedPerTenant));
    this.perScope.set(scope, queued + 1);
    return new Promise<PlanResult<Raw>>((resolve, reject) => {
      const job: Job = { id: this.nextId++, scope, plan, resolve: resolve as Job['resolve'], reject };
      const list = this.waiting.get(scope);
      if (list) list.push(job);
      else this.waiting.set(scope, [job]);
      this.dispatch();
    });
  }

  /**
   * A list through `handle` (re-read on a retry: a rebuild may have swapped the tables the
   * plan named while it waited), on a worker, or inline when the pool has none.
   */
  async list<Row>(scope: string, handle: () => ListSource<Row>, query: ListQuery): Promise<{ total: number; rows: Row[] }> {
    if (this.options.workers === 0) return handle().list(scope, query);
    for (let attempt = 0; ; attempt++) {
      const source = handle();
      try {
        const { total, rows } = await this.run(scope, source.listPlan(scope, query));
        return { total, rows: source.toRows(rows) };
      } catch (err) {
        if (attempt > 0 || !/no such table/i.test((err as Error).message)) throw err;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const jobs of this.waiting.values()) for (const job of jobs) job.reject(new Error('scan pool closed'));
    this.waiting.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private async spawn(): Promise<void> {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        caseFolding: require.resolve('unicode-case-folding'),
        filename: this.filename,
      },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const slot: Slot = { worker };
    this.slots.push(slot);
    worker.unref();
    worker.on('message', (m: { id: number; total?: number; rows?: unknown[]; error?: { message: string; code?: string } }) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      slot.job = undefined;
      this.finish(job);
      if (m.error) job.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
      else job.resolve({ total: m.total as number, rows: m.rows as unknown[] });
      this.dispatch();
    });
    // A worker that dies fails its scan (500) and is replaced; the server lives on.
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (slot.job) {
        this.finish(slot.job);
        slot.job.reject(new Error('scan worker exited'));
      }
      if (!this.closed) void this.spawn().then(() => this.dispatch(), () => undefined);
    });
  }

  private finish(job: Job): void {
    const n = (this.perScope.get(job.scope) ?? 1) - 1;
    if (n <= 0) {
      this.perScope.delete(job.scope);
      this.served.delete(job.scope);
    }
    else this.perScope.set(job.scope, n);
  }

  /**
   * Gives each idle worker the next job of the scope with the fewest scans running, and
   * among equals the one served longest ago: round-robin between tenants.
   */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      let pick: string | undefined;
      for (const scope of this.waiting.keys()) {
        if (pick === undefined) pick = scope;
        else {
          const [r, p] = [this.runningIn(scope), this.runningIn(pick)];
          if (r < p || (r === p && (this.served.get(scope) ?? 0) < (this.served.get(pick) ?? 0))) pick = scope;
        }
      }
      if (pick === undefined) return;
      const jobs = this.waiting.get(pick) as Job[];
      const job = jobs.shift() as Job;
      if (jobs.length === 0) this.waiting.delete(pick);
      this.served.set(pick, ++this.turn);
      slot.job = job;
      slot.worker.postMessage({ id: job.id, plan: job.plan });
    }
  }

  private runningIn(scope: string): number {
    let n = 0;
    for (const slot of this.slots) if (slot.job?.scope === scope) n++;
    return n;
  }
}
