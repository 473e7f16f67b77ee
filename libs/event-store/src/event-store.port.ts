/**
 * The event store port. Semantics follow EventStoreDB exactly so that both adapters are
 * interchangeable: 0-based stream revisions, `no_stream` before the first event, sparse but
 * strictly increasing global positions, inclusive reads, exclusive subscriptions.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * What a caller expects the stream to look like before the append.
 *
 * Idempotency: re-appending the same event ids is guaranteed to be answered as the first
 * append was (success if it committed, a conflict if another writer took the revision) only
 * for exact expectations, a revision number or `no_stream`. On EventStoreDB, `any` and
 * `stream_exists` re-appends are deduplicated best-effort only (a cache of recent ids), so an
 * append whose outcome is unknown (a timeout racing a commit) may be retried only at the same
 * exact revision: the reservation saga does so and leaves other appends unresolved.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface EventData<T extends JsonObject = JsonObject> {
  /** Unique event id (UUID). Re-appending the same ids is idempotent (at exact revisions, see ExpectedRevision). */
  readonly id: string;
  readonly type: string;
  readonly data: T;
  readonly metadata?: JsonObject;
}

export interface RecordedEvent<T extends JsonObject = JsonObject> {
  readonly id: string;
  readonly streamId: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: bigint;
  /** Global position in the log (EventStoreDB: the commit position). Sparse; never assume +1. */
  readonly position: bigint;
  readonly type: string;
  readonly data: T;
  readonly metadata: JsonObject;
  /** Time the store recorded the event (assigned by the store, not by the writer). */
  readonly recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last event written (or of the existing event on an idempotent re-append). */
  readonly position: bigint;
}

export interface StreamAppend {
  readonly streamId: string;
  readonly events: readonly EventData[];
  readonly expectedRevision: ExpectedRevision;
}

export interface ReadStreamOptions {
  /** Inclusive. Default 0 forwards, the last event backwards. */
  readonly fromRevision?: bigint;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
}

export interface EventFilter {
  /** Keep events whose stream id starts with one of these. */
  readonly streamPrefixes?: readonly string[];
  /** Keep events whose type is one of these. */
  readonly eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /** Inclusive. Default: the start of the log. */
  readonly fromPosition?: bigint;
  readonly maxCount?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive: deliver events strictly after this position. Omitted: from the start. */
  readonly fromPosition?: bigint;
  readonly filter?: EventFilter;
  /**
   * With a filter, a `checkpoint` message is delivered at least every this many scanned
   * events so a consumer can store progress while filtered-out events pass. Default 1000.
   */
  readonly checkpointInterval?: number;
}

export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  /** Every event up to and including `position` was scanned (filtered-out ones included). */
  | { readonly kind: 'checkpoint'; readonly position: bigint }
  /** The subscription reached the end of the log as it stood; live events follow. */
  | { readonly kind: 'caught-up'; readonly position: bigint };

export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  /** Ends the iteration; pending `next()` calls resolve with `done`. */
  unsubscribe(): Promise<void>;
}

export interface EventStore {
  readonly name: 'sqlite' | 'eventstoredb' | 'postgres';
  /** True when `appendMulti` commits several streams atomically. */
  readonly supportsMultiStreamAppend: boolean;
  /**
   * Present only on a store whose log can share a database with the read models (the
   * embedded SQLite store): read models may then commit in its append transactions.
   */
  readonly inlineProjections?: InlineProjectionHost;

  append(streamId: string, events: readonly EventData[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  /** Atomic append to several streams. Only when `supportsMultiStreamAppend`. */
  appendMulti(appends: readonly StreamAppend[]): Promise<AppendResult>;

  /** Throws `StreamNotFoundError` when the stream has no events. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * Optional: every event of each of several streams in one round trip (a missing stream maps
   * to an empty list). Stores without it are read one `readStream` per stream.
   */
  readStreams?(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): Subscription;

  /** Position of the last event in the log, or -1n when it is empty. */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}

/**
 * Runs inside an append transaction, after its events are written, with those events (as a
 * subscriber would read them) and the head position before them. Whatever it writes commits
 * or rolls back with the events. It returns what to do once the commit is durable. It must
 * handle its own failures: the store ignores a throw (the events still commit).
 */
export type CommitHook = (events: readonly RecordedEvent[], headBefore: bigint) => (() => void) | void;

/**
 * Same-transaction read-model writes: what a projection runner needs from a store whose log
 * lives in the read models' own database. Reads are synchronous because they run on the one
 * connection both share, between appends.
 */
export interface InlineProjectionHost {
  /** True when `db` (a read-model database handle) is the connection the log is written on. */
  sharesDatabaseWith(db: unknown): boolean;
  /**
   * Runs `hook` in every append transaction; appends of more than `maxEvents` events commit
   * without it (their readers catch up on them in slices). `undefined` removes it.
   */
  setCommitHook(hook: CommitHook | undefined, maxEvents?: number): void;
  /** Position of the last event in the log, or -1n when it is empty. */
  headSync(): bigint;
  /** Events with position in (after, upTo], optionally filtered. */
  readRangeSync(after: bigint, upTo: bigint, filter: EventFilter | undefined): RecordedEvent[];
  /** Resolves on the next append (or close, or `wake`), or after `timeoutMs`. */
  waitForAppend(timeoutMs: number): Promise<void>;
  /** Resolves every pending `waitForAppend` now (a stopping reader). */
  wake(): void;
}

export const EVENT_STORE = Symbol('EVENT_STORE');

export const NO_POSITION = -1n;
