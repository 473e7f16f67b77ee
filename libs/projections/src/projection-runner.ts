import {
  type EventStore,
  type InlineProjectionHost,
  type RecordedEvent,
  StoreUnavailableError,
  type Subscription,
  type SubscriptionMessage,
} from '@app/event-store';
import { Slicer } from './cooperative';
import { type Projection, type ProjectionHandle, tableNamer } from './projection';
import type { ReadModelDb, ReadModelStatement } from './read-model-db.port';

interface LiveProjection {
  readonly projection: Projection;
  generation: number;
  handle: ProjectionHandle;
  /** Last position applied (-1n: nothing yet). */
  position: bigint;
  readonly types?: ReadonlySet<string>;
}

export interface RebuildProgress {
  readonly projection: string;
  readonly position: bigint;
  readonly head: bigint;
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly done: boolean;
}

export interface ProjectionStatus {
  readonly name: string;
  readonly version: number;
  readonly generation: number;
  readonly position: string;
  readonly lag: string;
  readonly rebuilding?: { position: string; head: string; eventsPerSecond: number };
}

/** A rebuild of this projection is already running. */
export class RebuildInProgress extends Error {
  constructor(readonly projection: string) {
    super(`${projection} is already rebuilding`);
    this.name = 'RebuildInProgress';
  }
}

const BATCH = 1000;
const CATCH_UP_RANGE = 200;
/**
 * Appends with more events than this are not applied inline: the catch-up loop applies them
 * in slices (a 3,000-member group PUT held the event loop ~1 s inside its transaction).
 */
export const INLINE_MAX_EVENTS = 200;
// Events are decoded a page at a time, and one event can be large (a group PATCH adding a
// thousand members): a page of 500 bounds what a rebuild holds in memory.
const REBUILD_PAGE = 500;
/** Rows deleted per statement when an old generation is emptied (a few ms each). */
const DROP_BATCH = 500;
/** How often a start that projects the log from the beginning reports how far it got. */
const START_PROGRESS_MS = 2000;

/** Projections a start opened as fresh generations, fed from the log by the live loop. */
interface StartProgress {
  readonly names: readonly string[];
  readonly report: (p: RebuildProgress) => void;
  readonly started: number;
  events: number;
  lastReport: number;
}

/**
 * Runs projections from the store's global log. Each batch of events is applied to every
 * projection and the projections' checkpoints are written in the same SQLite transaction,
 * so a crash at any point leaves rows and checkpoint consistent (exactly-once on the
 * embedded store). One subscription feeds all projections; each keeps its own position so
 * projections added later, or rebuilt, catch up without disturbing the others.
 *
 * On a store whose log lives in the read models' own database (the embedded store offers
 * `inlineProjections`), projections that are caught up run inline: they apply each group of
 * appends inside the append transaction (`InlineProjectionHost.setCommitHook`). The log stays the source (what they apply is what a
 * subscriber would read, checkpoint included); a projection that is behind (new, rebuilt,
 * or whose inline apply failed) is fed by the catch-up loop from its checkpoint instead.
 */
export class ProjectionRunner {
  private readonly live = new Map<string, LiveProjection>();
  private subscription?: Subscription;
  private loop?: Promise<void>;
  private stopping = false;
  private caughtUp = false;
  private readonly progressListeners = new Set<() => void>();
  private readonly rebuilding = new Map<string, RebuildProgress>();
  private failure?: unknown;
  /** The store's inline host when it shares this database: projections may then run inline. */
  private readonly inline?: InlineProjectionHost;
  private readonly checkpoint: ReadModelStatement<[number, number, string, number]>;
  private startProgress?: StartProgress;

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    private readonly projections: readonly Projection[],
    private readonly log: (message: string) => void = () => undefined,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
      name TEXT PRIMARY KEY, version INTEGER NOT NULL, generation INTEGER NOT NULL,
      position INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    this.checkpoint = db.prepare('UPDATE projection_checkpoints SET position = ?, updated_at = ? WHERE name = ? AND generation = ?');
    if (store.inlineProjections?.sharesDatabaseWith(db)) this.inline = store.inlineProjections;
  }

  /**
   * Opens each projection's current generation, rebuilding those whose version changed (or
   * that have no checkpoint: a restore from a bare log). `onRebuild` hears of each such
   * projection at once, then every couple of seconds while the live loop projects the log for
   * them, and a last time (`done`) when they have caught up.
   */
  async start(onRebuild?: (p: RebuildProgress) => void): Promise<void> {
    const saved = this.db.prepare('SELECT * FROM projection_checkpoints WHERE name = ?');
    const fresh: string[] = [];
    for (const projection of this.projections) {
      // Idempotent, so a start that failed half-way (store unreachable) can simply be retried.
      if (this.live.has(projection.name)) continue;
      const row = saved.get(projection.name) as
        | { version: number; generation: number; position: number }
        | undefined;
      if (row && row.version === projection.version) {
        // What a rebuild interrupted while emptying the previous generation left behind.
        if (row.generation > 1) this.db.transaction(() => this.dropTables(projection, row.generation - 1))();
        this.attach(projection, row.generation, BigInt(row.position));
      } else {
        // A new projection, or a new version whose code cannot read the old tables: a fresh
        // generation from position -1. The live loop then feeds every such projection in one
        // shared pass over the log (not one pass each); readiness waits until it caught up.
        const generation = (row?.generation ?? 0) + 1;
        this.db.transaction(() => {
          this.dropTables(projection, generation);
          if (row) this.dropTables(projection, row.generation);
        })();
        this.switchTo(projection, generation, -1n);
        fresh.push(projection.name);
        onRebuild?.({ projection: projection.name, position: -1n, head: await this.store.headPosition(), events: 0, eventsPerSecond: 0, done: false });
      }
    }
    if (onRebuild && fresh.length > 0) this.startProgress = { names: fresh, report: onRebuild, started: Date.now(), events: 0, lastReport: Date.now() };
    if (this.inline && !this.loop) this.inline.setCommitHook((events, headBefore) => this.applyInline(events, headBefore), INLINE_MAX_EVENTS);
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.inline?.setCommitHook(undefined);
    this.inline?.wake();
    await this.subscription?.unsubscribe();
    await this.loop;
  }

  /** The query side of a projection's current generation. */
  handle<H extends ProjectionHandle>(name: string): H {
    const p = this.live.get(name);
    // Not built yet (first start while the store is unreachable): the caller answers 503.
    if (!p) throw new StoreUnavailableError(`Read model ${name} is not available yet`);
    return p.handle as H;
  }

  /** Lowest position every projection has applied. */
  get position(): bigint {
    let min: bigint | undefined;
    for (const p of this.live.values()) if (min === undefined || p.position < min) min = p.position;
    return min ?? -1n;
  }

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  get error(): unknown {
    return this.failure;
  }

  /** Resolves once every projection has applied `position`, or rejects after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (this.position >= position) finish(true);
      };
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.progressListeners.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.progressListeners.add(check);
    });
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.headPosition();
    return [...this.live.values()].map((p) => {
      const r = this.rebuilding.get(p.projection.name);
      return {
        name: p.projection.name,
        version: p.projection.version,
        generation: p.generation,
        position: p.position.toString(),
        lag: (head > p.position ? head - p.position : 0n).toString(),
        ...(r
          ? { rebuilding: { position: r.position.toString(), head: r.head.toString(), eventsPerSecond: r.eventsPerSecond } }
          : {}),
      };
    });
  }

  /**
   * Rebuilds one projection (or all) from position 0 into fresh generations while the current
   * ones keep serving, then switches. All of them are built in one shared pass over the log:
   * each page is read and decoded once and offered to every projection being rebuilt. Each
   * result reports the events that pass read and its rate (the same for every projection).
   */
  async rebuild(name: string | 'all', onProgress?: (p: RebuildProgress) => void): Promise<RebuildProgress[]> {
    const currents = name === 'all' ? [...this.live.values()] : [this.live.get(name)].filter((p) => p !== undefined);
    if (currents.length === 0) throw new Error(`Unknown projection ${name}`);
    for (const c of currents) {
      if (this.rebuilding.has(c.projection.name)) throw new RebuildInProgress(c.projection.name);
    }
    // Claimed before the first await: a second request arriving meanwhile is refused, not run
    // into the same new tables.
    for (const c of currents) {
      this.rebuilding.set(c.projection.name, { projection: c.projection.name, position: -1n, head: -1n, events: 0, eventsPerSecond: 0, done: false });
    }
    let targets;
    try {
      targets = this.prepareTargets(currents);
    } catch (err) {
      for (const c of currents) this.rebuilding.delete(c.projection.name);
      throw err;
    }
    return this.runRebuild(targets, onProgress);
  }

  private prepareTargets(currents: LiveProjection[]) {
    return currents.map((current) => {
      const generation = current.generation + 1;
      const t = tableNamer(current.projection, generation);
      this.db.transaction(() => {
        this.dropTables(current.projection, generation);
        current.projection.create(this.db, t);
      })();
      const types = current.projection.eventTypes ? new Set(current.projection.eventTypes) : undefined;
      return { current, generation, handle: current.projection.open(this.db, t), types };
    });
  }

  private async runRebuild(targets: ReturnType<ProjectionRunner['prepareTargets']>, onProgress?: (p: RebuildProgress) => void): Promise<RebuildProgress[]> {
    // The store filters by type only when every projection being rebuilt names its types.
    const eventTypes = targets.every((t) => t.types)
      ? [...new Set(targets.flatMap((t) => [...(t.types as Set<string>)]))]
      : undefined;
    const started = Date.now();
    let position = -1n;
    let events = 0;
    let head = await this.store.headPosition();
    const slicer = new Slicer();
    const progress = (done: boolean): RebuildProgress[] => {
      const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
      return targets.map(({ current }) => {
        const p = { projection: current.projection.name, position, head, events, eventsPerSecond: Math.round(events / seconds), done };
        this.rebuilding.set(current.projection.name, p);
        onProgress?.(p);
        return p;
      });
    };
    try {
      // Close the gap to the live generations too (inline commits keep moving them), then
      // switch while nothing else can run: no await between the last check and the switch.
      const target = () => targets.reduce((max, t) => (t.current.position > max ? t.current.position : max), head);
      while (position < target()) {
        const readHead = await this.store.headPosition();
        // Reads start at the last position applied (inclusive, a real position on every
        // store: EventStoreDB's are sparse, so `position + 1` may name no event) and skip it.
        const page = (
          await this.store.readAll({
            ...(position >= 0n ? { fromPosition: position } : {}),
            maxCount: REBUILD_PAGE,
            ...(eventTypes ? { filter: { eventTypes } } : {}),
          })
        ).filter((e) => e.position > position);
        if (page.length === 0) {
          // Nothing these projections read up to `readHead`: they are built up to there.
          if (readHead <= position) break;
          position = readHead;
          continue;
        }
        // One transaction per slice of the page, then a turn of the event loop: a rebuild of
        // millions of events must not hold every other request (a page can take far longer
        // than a slice when its events are large).
        for (let i = 0; i < page.length; ) {
          const from = i;
          i = this.db.transaction((start: number) => {
            let j = start;
            while (j < page.length) {
              const e = page[j++];
              for (const t of targets) if (!t.types || t.types.has(e.type)) t.handle.apply(e);
              if (slicer.due()) break;
            }
            return j;
          })(from);
          events += i - from;
          position = page[i - 1].position;
          await slicer.yield();
        }
        head = readHead > position ? readHead : position;
        progress(false);
      }
      for (const t of targets) this.switchTo(t.current.projection, t.generation, position);
      // The old generations go after the switch, in slices: dropping a big table at once holds
      // the one SQLite connection (and so the event loop) for as long as it takes to free its pages.
      for (const t of targets) {
        if (t.current.generation !== t.generation) await this.dropTablesInSlices(t.current.projection, t.current.generation);
      }
      return progress(true);
    } finally {
      for (const t of targets) this.rebuilding.delete(t.current.projection.name);
    }
  }

  private attach(projection: Projection, generation: number, position: bigint): void {
    const t = tableNamer(projection, generation);
    projection.create(this.db, t);
    this.live.set(projection.name, {
      projection,
      generation,
      position,
      handle: projection.open(this.db, t),
      types: projection.eventTypes ? new Set(projection.eventTypes) : undefined,
    });
  }

  private switchTo(projection: Projection, generation: number, position: bigint): void {
    this.saveCheckpoint(projection, generation, position);
    this.attach(projection, generation, position);
    this.log(`projection ${projection.name} v${projection.version} generation ${generation} at ${position}`);
  }

  /**
   * Empties a generation's tables a batch of rows per slice, then drops them (cheap once empty).
   * A crash half-way leaves a partly emptied old generation that nothing reads; the next
   * rebuild of that projection drops what is left before it reuses the name.
   */
  private async dropTablesInSlices(projection: Projection, generation: number): Promise<void> {
    const t = tableNamer(projection, generation);
    const slicer = new Slicer();
    const definition = this.db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`);
    // Explicit indexes only: the ones SQLite makes for a PRIMARY KEY or UNIQUE cannot be dropped.
    const indexes = this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`);
    for (const table of projection.tables) {
      const name = t(table);
      const row = definition.get(name) as { sql: string } | undefined;
      if (!row) continue;
      // Indexes first, one statement each (freeing one index's pages is a few ms): every row
      // deleted below then updates the table's own b-tree, not six more (with the indexes in
      // place, emptying the old generation was about a tenth of a rebuild's CPU profile).
      for (const { name: index } of indexes.all(name) as { name: string }[]) {
        this.db.exec(`DROP INDEX IF EXISTS "${index}"`);
        await slicer.maybeYield();
      }
      // A WITHOUT ROWID table has no rowid to batch on; the house keeps only small ones.
      if (!/WITHOUT\s+ROWID/i.test(row.sql)) {
        const batch = this.db.prepare(`DELETE FROM "${name}" WHERE rowid IN (SELECT rowid FROM "${name}" LIMIT ${DROP_BATCH})`);
        while ((batch.run() as { changes: number }).changes > 0) await slicer.maybeYield();
      }
      this.db.exec(`DROP TABLE IF EXISTS "${name}"`);
      await slicer.maybeYield();
    }
  }

  private dropTables(projection: Projection, generation: number): void {
    const t = tableNamer(projection, generation);
    for (const table of projection.tables) this.db.exec(`DROP TABLE IF EXISTS "${t(table)}"`);
  }

  /** Applies what `p` has not applied yet of `events` (in log order) and moves its checkpoint. */
  private applyTo(p: LiveProjection, events: readonly RecordedEvent[], last: bigint, now: number): void {
    for (const e of events) {
      if (e.position > p.position && (!p.types || p.types.has(e.type))) p.handle.apply(e);
    }
    this.checkpoint.run(Number(last), now, p.projection.name, p.generation);
  }

  private saveCheckpoint(projection: Projection, generation: number, position: bigint): void {
    this.db
      .prepare(
        `INSERT INTO projection_checkpoints (name, version, generation, position, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET version = excluded.version, generation = excluded.generation,
           position = excluded.position, updated_at = excluded.updated_at`,
      )
      .run(projection.name, projection.version, generation, Number(position), Date.now());
  }

  private async run(): Promise<void> {
    const flush = (batch: RecordedEvent[]) => {
      if (batch.length === 0) return;
      const last = batch[batch.length - 1].position;
      this.db.transaction(() => {
        const now = Date.now();
        for (const p of this.live.values()) if (p.position < last) this.applyTo(p, batch, last, now);
      })();
      for (const p of this.live.values()) if (p.position < last) p.position = last;
      this.startProgressed(batch.length, undefined, false);
      batch.length = 0;
      this.progressed();
    };
    let backoff = 100;
    while (!this.stopping) {
      const batch: RecordedEvent[] = [];
      try {
        await (this.inline ? this.catchUp(this.inline) : this.follow(batch, flush));
        backoff = 100;
      } catch (err) {
        // A store outage or a failing projection: keep what was committed, resume from the
        // checkpoints after a pause. Events of the failed batch are delivered again.
        this.failure = err;
        this.caughtUp = false;
        this.log(`projection runner paused: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private async follow(batch: RecordedEvent[], flush: (b: RecordedEvent[]) => void): Promise<void> {
    const from = this.position;
    this.subscription = this.store.subscribeToAll({ fromPosition: from < 0n ? undefined : from });
    const it = this.subscription[Symbol.asyncIterator]();
    while (!this.stopping) {
      const next = it.next();
      // Flush what we have as soon as the log has nothing more ready, so readers wait for
      // one small transaction, not for a full batch.
      let r = batch.length === 0 ? await next : await Promise.race([next, idle()]);
      if (r === IDLE) {
        flush(batch);
        r = await next;
      }
      const result = r as IteratorResult<SubscriptionMessage>;
      if (result.done) break;
      const msg = result.value;
      if (msg.kind === 'event') {
        batch.push(msg.event);
        if (batch.length >= BATCH) flush(batch);
      } else if (msg.kind === 'caught-up') {
        flush(batch);
        this.caughtUp = true;
        this.failure = undefined;
        this.startProgressed(0, undefined, true);
      }
    }
    flush(batch);
  }

  /**
   * Inside the append transaction: applies the new events to every projection that had
   * applied everything before them, with their checkpoints, in a savepoint of its own. A
   * failure rolls back only the projections' part; the catch-up loop then retries them from
   * their checkpoints (and pauses with the error, as it would for any batch).
   */
  private applyInline(events: readonly RecordedEvent[], headBefore: bigint): (() => void) | void {
    const last = events[events.length - 1].position;
    const current = [...this.live.values()].filter((p) => p.position === headBefore);
    if (current.length === 0) return undefined;
    try {
      this.db.transaction(() => {
        const now = Date.now();
        for (const p of current) this.applyTo(p, events, last, now);
      })();
    } catch (err) {
      this.failure = err;
      this.log(`inline projection failed, the catch-up loop takes over: ${(err as Error).message}`);
      return undefined;
    }
    return () => {
      for (const p of current) {
        // A rebuild may have switched generations meanwhile; only the handle applied moves on.
        if (this.live.get(p.projection.name) === p) p.position = last;
      }
      this.progressed();
    };
  }

  /**
   * The embedded store's loop: feeds projections that are behind (and large appends, which
   * are not applied inline); inline commits do the rest. Each range is applied in slices, one
   * transaction each with the checkpoints at its last event, with a turn of the loop between.
   */
  private async catchUp(store: InlineProjectionHost): Promise<void> {
    const slicer = new Slicer();
    while (!this.stopping) {
      const head = store.headSync();
      const from = this.position;
      if (from < head) {
        const upTo = from + BigInt(CATCH_UP_RANGE) < head ? from + BigInt(CATCH_UP_RANGE) : head;
        const events = store.readRangeSync(from, upTo, undefined);
        for (let i = 0; i < events.length && !this.stopping; ) {
          const at = i;
          i = this.applySlice(events, i, slicer);
          this.startProgressed(i - at, head, false);
          await slicer.yield();
        }
        if (events.length === 0) await slicer.yield();
        continue;
      }
      this.caughtUp = true;
      this.failure = undefined;
      this.startProgressed(0, head, true);
      await store.waitForAppend(1000);
    }
  }

  /** Applies `events` from `start` until the slice is spent; returns where it stopped. */
  private applySlice(events: readonly RecordedEvent[], start: number, slicer: Slicer): number {
    const behind = [...this.live.values()];
    let end = start;
    const last = this.db.transaction(() => {
      const now = Date.now();
      while (end < events.length) {
        const e = events[end++];
        for (const p of behind) if (e.position > p.position && (!p.types || p.types.has(e.type))) p.handle.apply(e);
        if (slicer.due()) break;
      }
      const at = events[end - 1].position;
      for (const p of behind) if (p.position < at) this.checkpoint.run(Number(at), now, p.projection.name, p.generation);
      return at;
    })();
    for (const p of behind) if (p.position < last && this.live.get(p.projection.name) === p) p.position = last;
    this.progressed();
    return end;
  }

  /**
   * Progress of the projections a start opened fresh: `applied` more events, reported every
   * START_PROGRESS_MS and once more when the loop caught up (then never again).
   */
  private startProgressed(applied: number, head: bigint | undefined, caughtUp: boolean): void {
    const s = this.startProgress;
    if (!s) return;
    s.events += applied;
    const now = Date.now();
    if (!caughtUp && now - s.lastReport < START_PROGRESS_MS) return;
    s.lastReport = now;
    if (caughtUp) this.startProgress = undefined;
    const position = this.position;
    const eventsPerSecond = Math.round(s.events / Math.max((now - s.started) / 1000, 1e-3));
    for (const projection of s.names) {
      s.report({ projection, position, head: head ?? position, events: s.events, eventsPerSecond, done: caughtUp });
    }
  }

  private progressed(): void {
    for (const l of [...this.progressListeners]) l();
  }
}

const IDLE = Symbol('idle');
function idle(): Promise<typeof IDLE> {
  return new Promise((resolve) => setImmediate(() => resolve(IDLE)));
}
