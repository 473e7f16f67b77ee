import type { Database, Statement } from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { StoreUnavailableError, StreamNotFoundError, UnsupportedOperationError, WrongExpectedRevisionError } from '../errors';
import { StreamExistenceFilter } from './stream-existence-filter';
import type {
  AppendResult,
  CommitHook,
  EventData,
  EventFilter,
  EventStore,
  ExpectedRevision,
  InlineProjectionHost,
  JsonObject,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';
import { revisionMatches } from '../expected-revision';
import { type PolledLog, readWindow, subscribePolled } from '../polled-subscription';

/** PRAGMA user_version of the schema below; each migration bumps it by one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     position    INTEGER PRIMARY KEY,
     stream_id   TEXT    NOT NULL,
     revision    INTEGER NOT NULL,
     event_id    TEXT    NOT NULL,
     type        TEXT    NOT NULL,
     data        TEXT    NOT NULL,
     metadata    TEXT    NOT NULL,
     recorded_at INTEGER NOT NULL,
     UNIQUE (stream_id, revision),
     UNIQUE (event_id)
   );
   CREATE INDEX events_type ON events (type, position);`,
  // Filtered reads walk the position range and test the type, so the type index only cost
  // every append an extra b-tree insert.
  `DROP INDEX IF EXISTS events_type;`,
  // A sliced append in progress (see `appendSliced`): the head before it. A row left here by a
  // crash means its events are not part of the log; opening the store removes them.
  `CREATE TABLE sliced_append (after_position INTEGER NOT NULL);`,
];

/** Appends of more events than this commit in slices (`appendSliced`); below it, one transaction is cheaper. */
export const SLICED_APPEND_EVENTS = 200;
/** Inserting stops for a commit and a turn of the event loop after about this long (the commit adds its own I/O). */
const SLICE_INSERT_MS = 5;

interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number;
}

/** What an append of a sliced batch comes to, decided before anything is written. */
type PlannedAppend =
  | { readonly kind: 'done'; readonly result: AppendResult }
  | { readonly kind: 'empty'; readonly revision: number }
  | {
      readonly kind: 'write';
      readonly streamId: string;
      readonly events: readonly EventData[];
      readonly expected: ExpectedRevision;
      /** The stream's revision before this append. */
      readonly current: number;
    };

interface PendingAppend {
  readonly appends: readonly StreamAppend[];
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
  result?: AppendResult;
  error?: unknown;
}

/**
 * The embedded event store: one SQLite file, `BEGIN IMMEDIATE` transactions, the rowid as
 * global position. Appends are synchronous inside; the async port keeps the adapters
 * interchangeable.
 */
export class SqliteEventStore implements EventStore, InlineProjectionHost {
  readonly name = 'sqlite' as const;
  readonly supportsMultiStreamAppend = true;
  /** Read models in this store's own database may apply appends in their transaction. */
  readonly inlineProjections: InlineProjectionHost = this;

  private readonly stmt: {
    currentRevision: Statement<[string], { revision: number }>;
    byEventId: Statement<[string], { stream_id: string; revision: number; position: number }>;
    idsInRange: Statement<[string, number, number], { event_id: string; position: number }>;
    insert: Statement<[number | null, string, number, string, string, string, string, number]>;
    head: Statement<[], { position: number | null }>;
    visibleRevision: Statement<[string, number], { revision: number }>;
    streamForwards: Statement<[string, number, number, number], EventRow>;
    streamBackwards: Statement<[string, number, number, number], EventRow>;
    allForwards: Statement<[number, number, number], EventRow>;
    allBackwards: Statement<[number, number], EventRow>;
    range: Statement<[number, number], EventRow>;
    markSliced: Statement<[number]>;
    unmarkSliced: Statement<[]>;
    discardAfter: Statement<[number]>;
  };
  /** Filtered SQL differs only by the number of prefixes and types, so few shapes ever exist. */
  private readonly filteredStatements = new Map<string, Statement<unknown[], EventRow>>();
  private readonly groupTx: (batch: PendingAppend[]) => (() => void) | void;
  private pending: PendingAppend[] = [];
  private commitHook?: CommitHook;
  /** Groups with more events than this commit without the hook (see `setCommitHook`). */
  private hookMaxEvents = Number.POSITIVE_INFINITY;
  private held = false;
  /** Events inserted by the transaction in progress, collected only while a hook is set. */
  private recording?: RecordedEvent[];
  private readonly waiters = new Set<() => void>();
  private readonly streams: StreamExistenceFilter;
  private closed = false;
  /**
   * While a sliced append runs (or its failed remains could not be removed yet): the head
   * before it. Readers see the log up to here only, so its events appear all at once.
   */
  private hiddenAfter?: bigint;
  /** The sliced append in progress; other appends queue behind it. */
  private slicing?: Promise<void>;
  /** A failed sliced append whose events are still in the file (removed before the next commit). */
  private leftoverAfter?: bigint;
  private readonly sliceTx: (work: () => void) => void;

  constructor(
    readonly db: Database,
    private readonly options: {
      readonly closeDatabase?: boolean;
      /** Appends of more events than this commit in slices (default `SLICED_APPEND_EVENTS`). */
      readonly sliceAppendsOver?: number;
      /** Insert time per slice of a sliced append (default 5 ms; tests use 0 for one slice per 16 events). */
      readonly sliceMs?: number;
    } = {},
  ) {
    migrate(db);
    recoverSlicedAppend(db);
    this.stmt = {
      currentRevision: db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      byEventId: db.prepare('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
      idsInRange: db.prepare(
        'SELECT event_id, position FROM events WHERE stream_id = ? AND revision >= ? AND revision <= ? ORDER BY revision',
      ),
      insert: db.prepare(
        'INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      head: db.prepare('SELECT MAX(position) AS position FROM events'),
      visibleRevision: db.prepare(
        'SELECT revision FROM events WHERE stream_id = ? AND position <= ? ORDER BY revision DESC LIMIT 1',
      ),
      streamForwards: db.prepare(
        'SELECT * FROM events WHERE stream_id = ? AND revision >= ? AND position <= ? ORDER BY revision ASC LIMIT ?',
      ),
      streamBackwards: db.prepare(
        'SELECT * FROM events WHERE stream_id = ? AND revision <= ? AND position <= ? ORDER BY revision DESC LIMIT ?',
      ),
      allForwards: db.prepare('SELECT * FROM events WHERE position >= ? AND position <= ? ORDER BY position ASC LIMIT ?'),
      allBackwards: db.prepare('SELECT * FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?'),
      range: db.prepare('SELECT * FROM events WHERE position > ? AND position <= ? ORDER BY position ASC'),
      markSliced: db.prepare('INSERT INTO sliced_append (after_position) VALUES (?)'),
      unmarkSliced: db.prepare('DELETE FROM sliced_append'),
      discardAfter: db.prepare('DELETE FROM events WHERE position > ?'),
    };
    const sliceTx = db.transaction((work: () => void) => work());
    this.sliceTx = (work) => sliceTx.immediate(work);
    // Sized by the log's length, which bounds the number of streams.
    const streamIds = db.prepare<[string, number], string>('SELECT DISTINCT stream_id FROM events WHERE stream_id > ? ORDER BY stream_id LIMIT ?').pluck();
    this.streams = new StreamExistenceFilter(Number(this.headSync()) + 1, (after, limit) => (this.closed ? [] : streamIds.all(after ?? '', limit)));
    // better-sqlite3's .immediate() issues BEGIN IMMEDIATE: the write lock is taken up front.
    const tx = db.transaction((appends: readonly StreamAppend[]) => {
      let last: AppendResult | undefined;
      const meta = {};
      for (const a of appends) last = this.appendOne(a.streamId, a.events, a.expectedRevision, meta);
      return last as AppendResult;
    });
    // Group commit: appends that arrive in the same turn of the event loop share one
    // transaction; each runs in its own savepoint (better-sqlite3 nests transactions that
    // way), so one append's conflict never affects another's outcome.
    const group = db.transaction((batch: PendingAppend[]) => {
      const head = this.startRecording(batch);
      for (const item of batch) {
        const mark = this.recording?.length ?? 0;
        try {
          item.result = tx(item.appends);
        } catch (err) {
          item.error = err;
          // Its savepoint rolled back: its events are not in the log.
          if (this.recording) this.recording.length = mark;
        }
      }
      return this.endRecording(head);
    });
    this.groupTx = (batch) => group.immediate(batch);
  }

  sharesDatabaseWith(db: unknown): boolean {
    return db === this.db;
  }

  /**
   * Lets read models that live in this database apply new events in the append transaction
   * itself (inline projections): one commit per group instead of two, no re-read of what was
   * just written, and queries see a write as soon as it is acknowledged.
   *
   * An append of more than `maxEvents` events (a PUT of a group with thousands of members)
   * commits alone and without the hook: applying it in the transaction would hold the event
   * loop for every tenant for as long as that takes, so its readers catch up on it in slices.
   */
  setCommitHook(hook: CommitHook | undefined, maxEvents = Number.POSITIVE_INFINITY): void {
    this.commitHook = hook;
    this.hookMaxEvents = maxEvents;
  }

  private isLarge(item: PendingAppend): boolean {
    return eventCount(item) > this.hookMaxEvents;
  }

  private isSliced(item: PendingAppend): boolean {
    return eventCount(item) > (this.options.sliceAppendsOver ?? SLICED_APPEND_EVENTS);
  }

  private startRecording(batch: readonly PendingAppend[]): bigint {
    // Not even recorded: parsing thousands of events back costs time on the same loop.
    if (!this.commitHook || batch.some((item) => this.isLarge(item))) return -1n;
    this.recording = [];
    return this.headSync();
  }

  private endRecording(headBefore: bigint): (() => void) | void {
    const events = this.recording;
    this.recording = undefined;
    if (!this.commitHook || !events || events.length === 0) return undefined;
    try {
      return this.commitHook(events, headBefore);
    } catch {
      // The hook's own failure handling already ran; the events commit regardless.
      return undefined;
    }
  }

  append(streamId: string, events: readonly EventData[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    return this.enqueue([{ streamId, events, expectedRevision }]);
  }

  appendMulti(appends: readonly StreamAppend[]): Promise<AppendResult> {
    if (appends.length === 0) return Promise.reject(new UnsupportedOperationError('appendMulti needs at least one stream'));
    return this.enqueue(appends);
  }

  private enqueue(appends: readonly StreamAppend[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('The event store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ appends, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.commitPending());
    });
  }

  /**
   * Queues appends (they are still accepted) while `during` runs, then commits them as one
   * group. Lets the WAL checkpointer finish a pass with no writer in between, which SQLite
   * needs before it can start the WAL over; requests that only read are not held.
   */
  async holdCommits(during: () => Promise<void>): Promise<void> {
    if (this.held) return;
    this.held = true;
    try {
      await during();
    } finally {
      this.held = false;
      if (this.pending.length > 0) setImmediate(() => this.commitPending());
    }
  }

  /**
   * Commits every queued append in one transaction, then settles each caller. Large appends
   * (see `setCommitHook`) commit after the others, in a transaction of their own, so the
   * ordinary appends of the same turn keep their inline apply.
   */
  private commitPending(): void {
    // Appends that arrive while a sliced append runs wait for it: log order is arrival order.
    if (this.held || this.slicing) return;
    const all = this.pending;
    this.pending = [];
    if (all.length === 0) return;
    if (this.leftoverAfter !== undefined) {
      try {
        this.discardSliced(this.leftoverAfter);
      } catch (err) {
        for (const item of all) item.reject(err);
        return;
      }
    }
    const sliced = all.filter((item) => this.isSliced(item));
    const batch = sliced.length === 0 ? all : all.filter((item) => !this.isSliced(item));
    if (this.commitHook && batch.length > 1 && batch.some((item) => this.isLarge(item))) {
      const small = batch.filter((item) => !this.isLarge(item));
      if (small.length > 0) this.commitGroup(small);
      this.commitGroup(batch.filter((item) => this.isLarge(item)));
    } else if (batch.length > 0) this.commitGroup(batch);
    if (sliced.length > 0) this.slicing = this.commitSliced(sliced);
  }

  /** One sliced append after the other, then whatever queued behind them. */
  private async commitSliced(items: readonly PendingAppend[]): Promise<void> {
    for (const item of items) {
      try {
        item.resolve(await this.appendSliced(item.appends));
      } catch (err) {
        item.reject(err);
      }
    }
    this.slicing = undefined;
    if (this.pending.length > 0) setImmediate(() => this.commitPending());
  }

  /**
   * A big append (a PUT or DELETE of a group of thousands of members: an event or two on each
   * member's stream) as one transaction held the event loop for every tenant for as long as
   * its inserts and its commit's page writes took (~0.2–0.6 s at 5,000 events on a loaded
   * disk). Here it is written in slices of a few milliseconds, each its own transaction, with
   * a turn of the event loop between them, and stays one atomic append all the same:
   * - it is decided before anything is written (expected revisions, idempotent retries), and
   *   nothing else can move the streams meanwhile: other appends queue behind it (one writer
   *   process per file), so a conflict can only be found up front;
   * - readers see the log only up to the head before it (`hiddenAfter`) until its last slice
   *   commits, so its events appear at once, in the positions they were given, before
   *   anything queued behind it;
   * - the first slice records the head before it (`sliced_append`) and the last one removes
   *   the record in its own transaction: after a crash, opening the store deletes the events
   *   of an append that did not finish; after a failure (a full disk) they are deleted at
   *   once, or before the next commit if that fails too.
   * Durability settings are unchanged: each slice is an ordinary commit, and the append is
   * acknowledged only after the last.
   */
  private async appendSliced(appends: readonly StreamAppend[]): Promise<AppendResult> {
    this.assertOpen();
    const plan = await this.planSliced(appends);
    const headBefore = this.headSync();
    if (!plan.some((step) => step.kind === 'write')) {
      const last = plan[plan.length - 1];
      if (last.kind === 'done') return last.result;
      return { nextExpectedRevision: BigInt(last.kind === 'empty' ? last.revision : last.current), position: headBefore };
    }
    const recordedAt = Date.now();
    // The events of one decision share one metadata envelope: serialised once.
    let metaObject: unknown;
    let metaJson = '';
    let running = headBefore;
    const results: AppendResult[] = [];
    let index = 0;
    let offset = 0;
    let revision = 0;
    let first = true;
    const budget = this.options.sliceMs ?? SLICE_INSERT_MS;
    // Everything planned is known not to conflict; an insert can still fail on a stored event
    // id further into a batch (a partial retry) or on I/O.
    const slice = () => {
      if (first) this.stmt.markSliced.run(Number(headBefore));
      const started = performance.now();
      let n = 0;
      while (index < plan.length) {
        const step = plan[index];
        if (step.kind !== 'write') {
          results.push(step.kind === 'done' ? step.result : { nextExpectedRevision: BigInt(step.revision), position: running });
          index++;
          continue;
        }
        if (offset === 0) {
          revision = step.current;
          if (step.current === -1) this.streams.add(step.streamId);
        }
        const e = step.events[offset];
        revision += 1;
        try {
          const info = this.stmt.insert.run(
            null,
            step.streamId,
            revision,
            e.id,
            e.type,
            JSON.stringify(e.data),
            e.metadata === metaObject && metaJson !== '' ? metaJson : (metaJson = JSON.stringify((metaObject = e.metadata) ?? {})),
            recordedAt,
          );
          running = BigInt(info.lastInsertRowid);
        } catch (err) {
          if (isUniqueViolation(err)) throw new WrongExpectedRevisionError(step.streamId, step.expected, BigInt(step.current));
          throw err;
        }
        offset++;
        if (offset === step.events.length) {
          results.push({ nextExpectedRevision: BigInt(revision), position: running });
          index++;
          offset = 0;
        }
        if ((++n & 15) === 0 && performance.now() - started >= budget) break;
      }
      if (index === plan.length) this.stmt.unmarkSliced.run();
    };
    this.hiddenAfter = headBefore;
    try {
      while (first || index < plan.length) {
        if (!first) await nextTurn();
        this.assertOpen();
        this.sliceTx(slice);
        first = false;
      }
    } catch (err) {
      this.leftoverAfter = headBefore;
      try {
        this.discardSliced(headBefore);
      } catch {
        // Still in the file, still hidden: removed before the next commit (or on the next start).
      }
      throw err;
    }
    this.hiddenAfter = undefined;
    this.notify();
    return results[results.length - 1];
  }

  /**
   * What each append of a sliced batch will do (`check`, as for `appendOne`). Nothing is
   * written, and the look-ups yield between slices: no other append runs until it is done.
   */
  private async planSliced(appends: readonly StreamAppend[]): Promise<PlannedAppend[]> {
    const plan: PlannedAppend[] = [];
    // The revisions this batch's earlier appends will have left (a stream named twice).
    const planned = new Map<string, number>();
    let started = performance.now();
    for (const a of appends) {
      if (performance.now() - started >= (this.options.sliceMs ?? SLICE_INSERT_MS)) {
        await nextTurn();
        this.assertOpen();
        started = performance.now();
      }
      const step = this.check(a.streamId, a.events, a.expectedRevision, planned.get(a.streamId) ?? this.currentRevision(a.streamId));
      plan.push(step);
      if (step.kind !== 'write') continue;
      planned.set(a.streamId, step.current + a.events.length);
    }
    return plan;
  }

  /** Removes what a failed sliced append wrote, and shows the log again. */
  private discardSliced(headBefore: bigint): void {
    this.sliceTx(() => {
      this.stmt.discardAfter.run(Number(headBefore));
      this.stmt.unmarkSliced.run();
    });
    this.leftoverAfter = undefined;
    this.hiddenAfter = undefined;
  }

  private commitGroup(batch: PendingAppend[]): void {
    let afterCommit: (() => void) | void;
    try {
      this.assertOpen();
      afterCommit = this.groupTx(batch);
    } catch (err) {
      this.recording = undefined;
      for (const item of batch) item.reject(err);
      return;
    }
    // Before the callers resume, so that what they read next already includes their write.
    afterCommit?.();
    for (const item of batch) {
      if (item.error !== undefined) item.reject(item.error);
      else item.resolve(item.result as AppendResult);
    }
    this.notify();
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return this.readStreamSync(streamId, options);
  }

  readStreamSync(streamId: string, options: ReadStreamOptions = {}): RecordedEvent[] {
    this.assertOpen();
    if (!this.streams.mightExist(streamId)) throw new StreamNotFoundError(streamId);
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const visible = this.visibleHead();
    const rows =
      options.direction === 'backwards'
        ? this.stmt.streamBackwards.all(
            streamId,
            options.fromRevision === undefined ? Number.MAX_SAFE_INTEGER : Number(options.fromRevision),
            visible,
            max,
          )
        : this.stmt.streamForwards.all(streamId, Number(options.fromRevision ?? 0n), visible, max);
    // Streams are never empty: no rows from the start means no stream, without a second query.
    const fromStart = options.direction !== 'backwards' && (options.fromRevision ?? 0n) === 0n && max > 0;
    if (rows.length === 0 && (fromStart || this.stmt.visibleRevision.get(streamId, visible) === undefined)) {
      throw new StreamNotFoundError(streamId);
    }
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const visible = this.visibleHead();
    const backwards = options.direction === 'backwards';
    if (!options.filter) {
      const rows = backwards
        ? this.stmt.allBackwards.all(Math.min(options.fromPosition === undefined ? Number.MAX_SAFE_INTEGER : Number(options.fromPosition), visible), max)
        : this.stmt.allForwards.all(Number(options.fromPosition ?? 0n), visible, max);
      return rows.map(toRecorded);
    }
    const { sql, params } = filterSql(options.filter);
    const from = options.fromPosition ?? (backwards ? BigInt(Number.MAX_SAFE_INTEGER) : 0n);
    const rows = this.filtered(
      `SELECT * FROM events WHERE position ${backwards ? '<=' : '>='} ? AND position <= ? AND ${sql} ORDER BY position ${backwards ? 'DESC' : 'ASC'} LIMIT ?`,
    ).all(Number(from), visible, ...params, max);
    return rows.map(toRecorded);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    return subscribePolled(this.polled, options);
  }

  /** The log as the shared subscription loop reads it: windows of positions up to the head. */
  private readonly polled: PolledLog = {
    isClosed: () => this.closed,
    readPage: (position, window, filter) =>
      readWindow(position, window, this.headSync(), (after, upTo) => this.readRangeSync(after, upTo, filter)),
    waitForAppend: () => this.waitForAppend(1000),
    // Every waiting subscription looks again (each checks whether it was stopped).
    wake: () => this.wake(),
  };

  async headPosition(): Promise<bigint> {
    return this.headSync();
  }

  headSync(): bigint {
    this.assertOpen();
    // A sliced append's events are not in the log until its last slice commits.
    if (this.hiddenAfter !== undefined) return this.hiddenAfter;
    const row = this.stmt.head.get();
    return row?.position == null ? -1n : BigInt(row.position);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    if (this.options.closeDatabase !== false) this.db.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves on the next append (or close), or after `timeoutMs`. */
  waitForAppend(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      // A waiting subscription must not keep the process alive on its own.
      timer.unref();
      this.waiters.add(done);
    });
  }

  /** Events with position in (after, upTo], optionally filtered. */
  readRangeSync(after: bigint, upTo: bigint, filter: EventFilter | undefined): RecordedEvent[] {
    this.assertOpen();
    if (this.hiddenAfter !== undefined && upTo > this.hiddenAfter) upTo = this.hiddenAfter;
    if (!filter) return this.stmt.range.all(Number(after), Number(upTo)).map(toRecorded);
    const { sql, params } = filterSql(filter);
    const rows = this.filtered(`SELECT * FROM events WHERE position > ? AND position <= ? AND ${sql} ORDER BY position ASC`).all(
      Number(after),
      Number(upTo),
      ...params,
    );
    return rows.map(toRecorded);
  }

  private currentRevision(streamId: string): number {
    return this.streams.mightExist(streamId) ? (this.stmt.currentRevision.get(streamId)?.revision ?? -1) : -1;
  }

  /**
   * What an append comes to, before anything is written (`appendOne`, and each append of a
   * sliced batch): an idempotent retry's result, nothing to write, or the write at `current`.
   */
  private check(streamId: string, events: readonly EventData[], expected: ExpectedRevision, current: number): PlannedAppend {
    const matches = revisionMatches(expected, BigInt(current));
    // A retried batch can only be stored at the expected place if the stream has moved past
    // it (or the writer did not say where). Otherwise any stored id is a conflict, which the
    // UNIQUE(event_id) insert reports without a look-up first.
    if (events.length > 0 && (!matches || expected === 'any' || expected === 'stream_exists')) {
      const existing = this.stmt.byEventId.get(events[0].id);
      if (existing) return { kind: 'done', result: this.idempotentResult(streamId, events, expected, current, existing) };
    }
    if (!matches) throw new WrongExpectedRevisionError(streamId, expected, BigInt(current));
    if (events.length === 0) return { kind: 'empty', revision: current };
    return { kind: 'write', streamId, events, expected, current };
  }

  private appendOne(
    streamId: string,
    events: readonly EventData[],
    expected: ExpectedRevision,
    meta: { object?: unknown; json?: string },
  ): AppendResult {
    const step = this.check(streamId, events, expected, this.currentRevision(streamId));
    if (step.kind === 'done') return step.result;
    if (step.kind === 'empty') return { nextExpectedRevision: BigInt(step.revision), position: this.headSync() };
    const current = step.current;
    const recordedAt = Date.now();
    if (current === -1) this.streams.add(streamId);
    let revision = current;
    let position = 0;
    for (const e of events) {
      revision += 1;
      try {
        const data = JSON.stringify(e.data);
        // The events of one decision share one metadata envelope: serialise it once.
        if (e.metadata !== meta.object || meta.json === undefined) {
          meta.object = e.metadata;
          meta.json = JSON.stringify(e.metadata ?? {});
        }
        const metadata = meta.json;
        const info = this.stmt.insert.run(null, streamId, revision, e.id, e.type, data, metadata, recordedAt);
        position = Number(info.lastInsertRowid);
        // Parsed back from the stored text, so the hook sees exactly what a reader would.
        this.recording?.push(
          toRecorded({ position, stream_id: streamId, revision, event_id: e.id, type: e.type, data, metadata, recorded_at: recordedAt }),
        );
      } catch (err) {
        // A later event id of the batch is already stored: a partial overlap is a conflict.
        if (isUniqueViolation(err)) throw new WrongExpectedRevisionError(streamId, expected, BigInt(current));
        throw err;
      }
    }
    return { nextExpectedRevision: BigInt(revision), position: BigInt(position) };
  }

  /**
   * EventStoreDB's idempotency: a batch whose ids are exactly the events already stored at
   * the expected place succeeds again without writing; any partial overlap is a conflict.
   */
  private idempotentResult(
    streamId: string,
    events: readonly EventData[],
    expected: ExpectedRevision,
    current: number,
    first: { stream_id: string; revision: number; position: number },
  ): AppendResult {
    const conflict = () => new WrongExpectedRevisionError(streamId, expected, BigInt(current));
    if (first.stream_id !== streamId) throw conflict();
    const expectedFirst =
      expected === 'any' || expected === 'stream_exists'
        ? first.revision
        : expected === 'no_stream'
          ? 0
          : Number(expected) + 1;
    if (first.revision !== expectedFirst) throw conflict();
    const stored = this.stmt.idsInRange.all(streamId, first.revision, first.revision + events.length - 1);
    if (stored.length !== events.length || stored.some((row, i) => row.event_id !== events[i].id)) throw conflict();
    return {
      nextExpectedRevision: BigInt(first.revision + events.length - 1),
      position: BigInt(stored[stored.length - 1].position),
    };
  }

  /** The last position readers may see (see `hiddenAfter`). */
  private visibleHead(): number {
    return this.hiddenAfter === undefined ? Number.MAX_SAFE_INTEGER : Number(this.hiddenAfter);
  }

  private filtered(sql: string): Statement<unknown[], EventRow> {
    let stmt = this.filteredStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], EventRow>(sql);
      this.filteredStatements.set(sql, stmt);
    }
    return stmt;
  }

  /** Wakes waiting subscriptions so they notice an unsubscribe at once. */
  wake(): void {
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('The event store is closed');
  }
}

function filterSql(filter: EventFilter): { sql: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (filter.streamPrefixes && filter.streamPrefixes.length > 0) {
    // substr() instead of LIKE: stream ids may contain '%' or '_'.
    clauses.push(`(${filter.streamPrefixes.map(() => 'substr(stream_id, 1, ?) = ?').join(' OR ')})`);
    for (const p of filter.streamPrefixes) params.push(p.length, p);
  }
  if (filter.eventTypes && filter.eventTypes.length > 0) {
    clauses.push(`type IN (${filter.eventTypes.map(() => '?').join(', ')})`);
    params.push(...filter.eventTypes);
  }
  return { sql: clauses.length ? clauses.join(' AND ') : '1', params };
}

function eventCount(item: PendingAppend): number {
  let n = 0;
  for (const a of item.appends) n += a.events.length;
  return n;
}

/** Deletes the events of a sliced append a crash interrupted: they were never part of the log. */
function recoverSlicedAppend(db: Database): void {
  const left = db.prepare<[], { after_position: number }>('SELECT after_position FROM sliced_append').get();
  if (!left) return;
  db.transaction(() => {
    db.prepare('DELETE FROM events WHERE position > ?').run(left.after_position);
    db.prepare('DELETE FROM sliced_append').run();
  }).immediate();
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    type: row.type,
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as JsonObject,
    recordedAt: new Date(row.recorded_at),
  };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function migrate(db: Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
