import type { Database, Statement } from 'better-sqlite3';
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
];

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
    streamForwards: Statement<[string, number, number], EventRow>;
    streamBackwards: Statement<[string, number, number], EventRow>;
    allForwards: Statement<[number, number], EventRow>;
    allBackwards: Statement<[number, number], EventRow>;
    range: Statement<[number, number], EventRow>;
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

  constructor(
    readonly db: Database,
    private readonly options: { readonly closeDatabase?: boolean } = {},
  ) {
    migrate(db);
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
      streamForwards: db.prepare(
        'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
      ),
      streamBackwards: db.prepare(
        'SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
      ),
      allForwards: db.prepare('SELECT * FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?'),
      allBackwards: db.prepare('SELECT * FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?'),
      range: db.prepare('SELECT * FROM events WHERE position > ? AND position <= ? ORDER BY position ASC'),
    };
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
    let n = 0;
    for (const a of item.appends) n += a.events.length;
    return n > this.hookMaxEvents;
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
    if (this.held) return;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.commitHook && batch.length > 1 && batch.some((item) => this.isLarge(item))) {
      const small = batch.filter((item) => !this.isLarge(item));
      if (small.length > 0) this.commitGroup(small);
      this.commitGroup(batch.filter((item) => this.isLarge(item)));
      return;
    }
    this.commitGroup(batch);
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
    const rows =
      options.direction === 'backwards'
        ? this.stmt.streamBackwards.all(
            streamId,
            options.fromRevision === undefined ? Number.MAX_SAFE_INTEGER : Number(options.fromRevision),
            max,
          )
        : this.stmt.streamForwards.all(streamId, Number(options.fromRevision ?? 0n), max);
    // Streams are never empty: no rows from the start means no stream, without a second query.
    const fromStart = options.direction !== 'backwards' && (options.fromRevision ?? 0n) === 0n && max > 0;
    if (rows.length === 0 && (fromStart || this.stmt.currentRevision.get(streamId) === undefined)) {
      throw new StreamNotFoundError(streamId);
    }
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (!options.filter) {
      const rows =
        options.direction === 'backwards'
          ? this.stmt.allBackwards.all(
              options.fromPosition === undefined ? Number.MAX_SAFE_INTEGER : Number(options.fromPosition),
              max,
            )
          : this.stmt.allForwards.all(Number(options.fromPosition ?? 0n), max);
      return rows.map(toRecorded);
    }
    const { sql, params } = filterSql(options.filter);
    const backwards = options.direction === 'backwards';
    const from = options.fromPosition ?? (backwards ? BigInt(Number.MAX_SAFE_INTEGER) : 0n);
    const rows = this.filtered(
      `SELECT * FROM events WHERE position ${backwards ? '<=' : '>='} ? AND ${sql} ORDER BY position ${backwards ? 'DESC' : 'ASC'} LIMIT ?`,
    ).all(Number(from), ...params, max);
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
    if (!filter) return this.stmt.range.all(Number(after), Number(upTo)).map(toRecorded);
    const { sql, params } = filterSql(filter);
    const rows = this.filtered(`SELECT * FROM events WHERE position > ? AND position <= ? AND ${sql} ORDER BY position ASC`).all(
      Number(after),
      Number(upTo),
      ...params,
    );
    return rows.map(toRecorded);
  }

  private appendOne(
    streamId: string,
    events: readonly EventData[],
    expected: ExpectedRevision,
    meta: { object?: unknown; json?: string },
  ): AppendResult {
    const current = this.streams.mightExist(streamId) ? (this.stmt.currentRevision.get(streamId)?.revision ?? -1) : -1;
    const matches = revisionMatches(expected, BigInt(current));
    // A retried batch can only be stored at the expected place if the stream has moved past
    // it (or the writer did not say where). Otherwise any stored id is a conflict, which the
    // UNIQUE(event_id) insert below reports without a look-up first.
    if (events.length > 0 && (!matches || expected === 'any' || expected === 'stream_exists')) {
      const existing = this.stmt.byEventId.get(events[0].id);
      if (existing) return this.idempotentResult(streamId, events, expected, current, existing);
    }
    if (!matches) {
      throw new WrongExpectedRevisionError(streamId, expected, BigInt(current));
    }
    if (events.length === 0) {
      return { nextExpectedRevision: BigInt(current), position: this.headSync() };
    }
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
