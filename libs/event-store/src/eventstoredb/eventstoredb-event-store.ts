import {
  AppendTooLargeError,
  EventStoreError,
  StoreAccessDeniedError,
  StoreUnavailableError,
  StreamDeletedError,
  StreamNotFoundError,
  UnsupportedOperationError,
  WrongExpectedRevisionError,
} from '../errors';
import { matchesFilter } from '../event-filter';
import type {
  AppendResult,
  EventData,
  EventFilter,
  EventStore,
  ExpectedRevision,
  JsonObject,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  SubscribeOptions,
  Subscription,
  SubscriptionMessage,
} from '../event-store.port';
import {
  ANY,
  BACKWARDS,
  END,
  EsdbAccessDeniedError,
  EsdbMaxAppendSizeExceededError,
  EsdbNotLeaderError,
  EsdbStreamDeletedError,
  EsdbStreamNotFoundError,
  EsdbWrongExpectedVersionError,
  isCommandError,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  connect,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EsdbClient,
  type EventStoreDBClient,
  type Filter,
  type ResolvedEvent,
  type StreamingRead,
} from './eventstoredb-client';

export interface EventStoreDbOptions {
  /**
   * Longest wait for one call (an append, one page of a read). Past it the call fails with
   * StoreUnavailableError, so a request meets a 503 quickly when the store is down or hangs.
   * The client's own deadlines do not cover streaming reads or batch appends.
   */
  readonly deadlineMs?: number;
  /**
   * Deadline for one page of a background $all read (projection rebuilds, the caught-up
   * probe): a filtered page may scan far more events than it returns.
   */
  readonly backgroundDeadlineMs?: number;
  /** Events per read call; keeps each call well inside the deadline. */
  readonly readPageSize?: number;
  /**
   * Quiet time after which a subscription that has not heard `caughtUp` from the server
   * checks for itself whether it has delivered everything (servers before 23.10 never say).
   */
  readonly caughtUpProbeMs?: number;
}

const DEFAULT_DEADLINE_MS = 3000;
const DEFAULT_BACKGROUND_DEADLINE_MS = 30_000;
/** A background page that fails is read again from where it stopped, this many times. */
const BACKGROUND_PAGE_RETRIES = 2;
/** Events the server scans per step of a filtered $all read (its default is unbounded). */
const READ_SEARCH_WINDOW = 512;
const DEFAULT_READ_PAGE = 500;
const DEFAULT_CAUGHT_UP_PROBE_MS = 500;
const DEFAULT_CHECKPOINT_INTERVAL = 1000;
/** The server scans this many events per filtered page; checkpoints come every `multiplier` pages. */
const SERVER_SEARCH_WINDOW = 32;
const QUEUE_HIGH = 1000;
const QUEUE_LOW = 100;
/**
 * EventStoreDB (KurrentDB) behind the port.
 *
 * - Positions are commit positions. Events appended through gRPC have commit == prepare, so
 *   `{ commit: p, prepare: p }` addresses an event again for reads and subscriptions.
 * - System streams and system events (`$`-prefixed) never reach callers: every $all read and
 *   subscription is filtered server-side (by the caller's filter, else `excludeSystemEvents`)
 *   and again here, as the server applies only one of stream prefix / event type.
 * - Atomic multi-stream append is not offered (`supportsMultiStreamAppend = false`); the
 *   reservation saga covers it.
 * - In a cluster, appends and stream reads (which decisions are made from) go to the leader
 *   (`requiresLeader`), retried once when a follower answers "not leader" (the client then
 *   reconnects to the leader it names). $all reads and subscriptions may be served by any node.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly name = 'eventstoredb' as const;
  readonly supportsMultiStreamAppend = false;
  private readonly client: EsdbClient;
  private readonly deadlineMs: number;
  private readonly backgroundDeadlineMs: number;
  private readonly pageSize: number;
  private readonly probeMs: number;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private closed = false;

  /** `client`: a connection string, or (tests) a stand-in for the client. */
  constructor(client: string | EsdbClient, options: EventStoreDbOptions = {}) {
    this.client = typeof client === 'string' ? connect(client) : client;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.backgroundDeadlineMs = options.backgroundDeadlineMs ?? DEFAULT_BACKGROUND_DEADLINE_MS;
    this.pageSize = options.readPageSize ?? DEFAULT_READ_PAGE;
    this.probeMs = options.caughtUpProbeMs ?? DEFAULT_CAUGHT_UP_PROBE_MS;
  }

  async append(
    streamId: string,
    events: readonly EventData[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    try {
      this.assertOpen();
      const data = events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: e.metadata ?? {} }));
      // A follower refuses before writing anything, so the retry cannot write twice.
      const result = await onLeader(() =>
        this.bounded(
          this.client.appendToStream(streamId, data, {
            expectedRevision: toEsdbExpected(expectedRevision),
            deadline: this.deadlineMs,
            requiresLeader: true,
          }),
          `append to ${streamId}`,
        ),
      );
      // An idempotent re-append reports no position on some servers: look the batch's last event up.
      const position =
        result.position?.commit ??
        (await this.positionAt(streamId, result.nextExpectedRevision, events.length));
      return { nextExpectedRevision: result.nextExpectedRevision, position };
    } catch (err) {
      throw mapError(err, streamId, expectedRevision);
    }
  }

  async appendMulti(_appends: readonly StreamAppend[]): Promise<AppendResult> {
    throw new UnsupportedOperationError(
      'EventStoreDB adapter: atomic multi-stream append is not available; use the reservation saga',
    );
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    const out: RecordedEvent[] = [];
    let from: bigint | typeof START | typeof END = options.fromRevision ?? (backwards ? END : START);
    try {
      this.assertOpen();
      while (out.length < wanted) {
        const count = Math.min(wanted - out.length, this.pageSize);
        const fromRevision = from;
        const page = await onLeader(() =>
          this.collect(
            this.client.readStream(streamId, {
              direction: backwards ? BACKWARDS : FORWARDS,
              fromRevision,
              maxCount: BigInt(count),
              requiresLeader: true,
            }),
            `read ${streamId}`,
            this.deadlineMs,
          ),
        );
        for (const resolved of page) {
          const e = toRecorded(resolved);
          if (e) out.push(e);
        }
        const last = page.at(-1)?.event?.revision;
        if (page.length < count || last === undefined || (backwards && last === 0n)) break;
        from = backwards ? last - 1n : last + 1n;
      }
    } catch (err) {
      throw mapError(err, streamId);
    }
    return out;
  }

  readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllWithin(options, this.backgroundDeadlineMs, BACKGROUND_PAGE_RETRIES);
  }

  private async readAllWithin(
    options: ReadAllOptions,
    deadlineMs: number,
    retries: number,
  ): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    const filter = serverFilter(options.filter);
    const out: RecordedEvent[] = [];
    let from = options.fromPosition;
    /** Everything at or before it (backwards: at or after it) has been looked at. */
    let seen: bigint | undefined;
    try {
      this.assertOpen();
      if (wanted <= 0) return out;
      if (backwards && from !== undefined) {
        // The port's fromPosition is inclusive, but a backwards $all read starts before the
        // position it is given: the event at `from` is fetched forwards, then excluded below
        // (whichever way the server treats it).
        const [at] = await this.readAllPage(
          from,
          false,
          1,
          excludeSystemEvents({ maxSearchWindow: READ_SEARCH_WINDOW }),
          deadlineMs,
          retries,
        );
        const e = at && positionOf(at) === from ? toRecorded(at) : undefined;
        if (e && matchesFilter(options.filter, e.streamId, e.type)) out.push(e);
        seen = from;
      }
      while (out.length < wanted) {
        // One extra: a page that restarts at the last position seen may return it again.
        const count = Math.min(wanted - out.length, this.pageSize) + (seen === undefined ? 0 : 1);
        // Each page restarts from the last position looked at: a failed page is read again
        // from there, so a long background read (a rebuild) resumes rather than starts over.
        const page = await this.readAllPage(from, backwards, count, filter, deadlineMs, retries);
        for (const resolved of page) {
          const position = positionOf(resolved);
          if (seen !== undefined && (backwards ? position >= seen : position <= seen)) continue;
          seen = position;
          const e = toRecorded(resolved);
          if (e && matchesFilter(options.filter, e.streamId, e.type)) out.push(e);
          if (out.length >= wanted) break;
        }
        if (page.length < count || seen === undefined || seen === from) break;
        from = seen;
      }
    } catch (err) {
      throw mapError(err);
    }
    return out;
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const interval = options.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL;
    if (!(Number.isInteger(interval) && interval >= 1)) {
      throw new RangeError(`checkpointInterval must be a positive integer, got ${interval}`);
    }
    if (this.closed) throw new StoreUnavailableError('The event store is closed');
    const subscription = new EsdbSubscription(
      this.client,
      this,
      options,
      interval,
      this.probeMs,
      this.deadlineMs,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    // On the request path (read-your-writes): the short deadline, no retries.
    const [last] = await this.readAllWithin({ direction: 'backwards', maxCount: 1 }, this.deadlineMs, 0);
    return last?.position ?? -1n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.unsubscribe()));
    await this.client.dispose();
  }

  private async positionAt(streamId: string, revision: bigint, eventCount: number): Promise<bigint> {
    if (eventCount === 0) return this.headPosition();
    const [e] = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    return e?.position ?? -1n;
  }

  private async readAllPage(
    from: bigint | undefined,
    backwards: boolean,
    count: number,
    filter: Filter,
    deadlineMs: number,
    retries: number,
  ): Promise<AllStreamResolvedEvent[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.collect(
          this.client.readAllFiltered({
            fromPosition:
              from === undefined || from < 0n ? (backwards ? END : START) : { commit: from, prepare: from },
            direction: backwards ? BACKWARDS : FORWARDS,
            maxCount: count,
            filter,
          }),
          'read $all',
          deadlineMs,
        );
      } catch (err) {
        if (attempt >= retries || !(mapError(err) instanceof StoreUnavailableError) || this.closed) throw err;
      }
    }
  }

  /** Drains one read call, abandoning it with StoreUnavailableError past the deadline. */
  private async collect<E>(reader: StreamingRead<E>, what: string, deadlineMs: number): Promise<E[]> {
    const items: E[] = [];
    const drain = (async () => {
      for await (const item of reader) items.push(item as E);
    })();
    try {
      await this.bounded(drain, what, deadlineMs);
    } catch (err) {
      reader.destroy();
      void reader.cancel().catch(() => undefined);
      throw err;
    }
    return items;
  }

  /** `p`, or StoreUnavailableError once the deadline passes (the call's outcome is then unknown). */
  private bounded<T>(p: Promise<T>, what: string, deadlineMs = this.deadlineMs): Promise<T> {
    return withDeadline(p, deadlineMs, `EventStoreDB did not answer (${what}) within ${deadlineMs} ms`);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('The event store is closed');
  }
}

type Queued = SubscriptionMessage | { readonly kind: 'failed'; readonly error: Error };

/**
 * A catch-up subscription to $all as an async iterable, with backpressure.
 *
 * `caught-up` comes from the server's own signal (EventStoreDB 23.10+). Older servers never
 * send it, so after `probeMs` without messages the subscription checks itself: when a read
 * of $all with the same filter finds nothing after what it has received, it has delivered
 * the whole log as it stood, and reports `caught-up` at the head read just before.
 */
export class EsdbSubscription implements Subscription {
  private readonly queue: Queued[] = [];
  private readonly sub: AllStreamSubscription;
  private wakeIterator: (() => void) | undefined;
  private stopped = false;
  private caughtUp = false;
  /** Highest position handed out (event, checkpoint, caught-up): positions only ever grow. */
  private delivered: bigint;
  /** Highest position received from the server, filtered out here or not. */
  private received: bigint;
  /** Events the server sent that the port filter dropped since the last message handed out. */
  private droppedSinceMessage = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  /**
   * Checkpoints and caught-up signals that arrived while events were still buffered in the
   * client's stream (paused for backpressure): the client reports them as they come off the
   * wire, ahead of the events before them, so they wait until those events are through.
   */
  private readonly deferred: (() => void)[] = [];

  constructor(
    client: Pick<EventStoreDBClient, 'subscribeToAll'>,
    private readonly store: Pick<EventStore, 'readAll' | 'headPosition'>,
    private readonly options: SubscribeOptions,
    private readonly checkpointInterval: number,
    private readonly probeMs: number,
    private readonly deadlineMs: number,
    private readonly onEnd: () => void,
  ) {
    const from = options.fromPosition ?? -1n;
    this.delivered = from;
    this.received = from;
    this.sub = client.subscribeToAll({
      fromPosition: from < 0n ? START : { commit: from, prepare: from },
      filter: serverFilter(options.filter, checkpointInterval, (position) => this.onCheckpoint(position)),
    });
    this.sub.on('data', (resolved: AllStreamResolvedEvent) => this.onEvent(resolved));
    this.sub.on('caughtUp', () => this.inOrder(() => this.reportCaughtUp(this.received)));
    this.sub.on('error', (error: unknown) => this.push({ kind: 'failed', error: mapError(error) }));
    // The server never ends a subscription on its own accord: the consumer must resubscribe.
    this.sub.on('end', () =>
      this.push({ kind: 'failed', error: new StoreUnavailableError('EventStoreDB ended the subscription') }),
    );
    this.armProbe();
  }

  async unsubscribe(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.probeTimer);
    this.wake();
    this.onEnd();
    await withDeadline(this.sub.unsubscribe(), this.deadlineMs, 'unsubscribe').catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    try {
      while (!this.stopped) {
        const m = this.queue.shift();
        if (!m) {
          await new Promise<void>((resolve) => (this.wakeIterator = resolve));
          continue;
        }
        if (this.queue.length < QUEUE_LOW && this.sub.isPaused()) {
          this.sub.resume();
          this.flushDeferred();
        }
        if (m.kind === 'failed') throw m.error;
        yield m;
      }
    } finally {
      await this.unsubscribe();
    }
  }

  private onEvent(resolved: AllStreamResolvedEvent): void {
    const position = positionOf(resolved);
    if (position > this.received) this.received = position;
    const e = toRecorded(resolved);
    if (e && matchesFilter(this.options.filter, e.streamId, e.type)) {
      this.deliver({ kind: 'event', event: e }, position);
    } else if (++this.droppedSinceMessage >= this.checkpointInterval && position > this.delivered) {
      // The server's checkpoints only count what its half of the filter dropped.
      this.deliver({ kind: 'checkpoint', position }, position);
    }
    this.flushDeferred();
    this.armProbe();
  }

  /** Runs `signal` now, or once every event the client buffered before it has been handled. */
  private inOrder(signal: () => void): void {
    if (this.deferred.length > 0 || buffered(this.sub) > 0) this.deferred.push(signal);
    else signal();
  }

  private flushDeferred(): void {
    while (this.deferred.length > 0 && buffered(this.sub) === 0) this.deferred.shift()!();
  }

  private onCheckpoint(position: bigint): void {
    this.inOrder(() => this.applyCheckpoint(position));
  }

  private applyCheckpoint(position: bigint): void {
    if (position > this.received) this.received = position;
    if (position > this.delivered) this.deliver({ kind: 'checkpoint', position }, position);
    this.armProbe();
  }

  private reportCaughtUp(position: bigint): void {
    if (this.caughtUp || this.stopped) return;
    this.caughtUp = true;
    clearTimeout(this.probeTimer);
    this.deliver(
      { kind: 'caught-up', position: position > this.delivered ? position : this.delivered },
      position,
    );
  }

  private deliver(message: SubscriptionMessage, position: bigint): void {
    if (position > this.delivered) this.delivered = position;
    this.droppedSinceMessage = 0;
    this.push(message);
  }

  private push(m: Queued): void {
    if (this.stopped) return;
    this.queue.push(m);
    if (this.queue.length > QUEUE_HIGH && !this.sub.isPaused()) this.sub.pause();
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeIterator;
    this.wakeIterator = undefined;
    wake?.();
  }

  private armProbe(): void {
    if (this.caughtUp || this.stopped) return;
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => void this.probe(), this.probeMs);
    // A quiet subscription must not keep the process alive on its own.
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    const after = this.received > this.delivered ? this.received : this.delivered;
    try {
      // Head first: whatever is appended after it cannot be at or below it.
      const head = await this.store.headPosition();
      const pending =
        head > after &&
        (
          await this.store.readAll({
            fromPosition: after < 0n ? undefined : after,
            filter: this.options.filter,
            maxCount: 2,
          })
        ).some((e) => e.position > after);
      if (!pending && buffered(this.sub) === 0) return this.reportCaughtUp(head > after ? head : after);
    } catch {
      // The subscription's own stream reports outages; a failed probe is simply retried.
    }
    this.armProbe();
  }
}

/**
 * The server-side half of a port filter: the server takes one stream-prefix or one
 * event-type expression, so with both the prefix goes to the server and `matchesFilter`
 * applies the rest. Without a filter, system events are excluded.
 */
export function serverFilter(
  filter: EventFilter | undefined,
  checkpointInterval?: number,
  onCheckpoint?: (position: bigint) => void,
): Filter {
  const checkpoints =
    checkpointInterval === undefined
      ? // A read: the server scans in bounded steps instead of one unbounded sweep.
        { maxSearchWindow: READ_SEARCH_WINDOW }
      : {
          // The server sends a checkpoint every `multiplier` windows; the product must not
          // exceed the interval the port promises.
          maxSearchWindow: Math.min(checkpointInterval, SERVER_SEARCH_WINDOW),
          checkpointInterval: Math.max(
            1,
            Math.floor(checkpointInterval / Math.min(checkpointInterval, SERVER_SEARCH_WINDOW)),
          ),
          ...(onCheckpoint
            ? { checkpointReached: (_s: unknown, p: { commit: bigint }) => onCheckpoint(p.commit) }
            : {}),
        };
  if (filter?.streamPrefixes && filter.streamPrefixes.length > 0) {
    return streamNameFilter({ prefixes: [...filter.streamPrefixes], ...checkpoints });
  }
  if (filter?.eventTypes && filter.eventTypes.length > 0) {
    return eventTypeFilter({
      regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$`,
      ...checkpoints,
    });
  }
  return excludeSystemEvents(checkpoints);
}

/** Events the client's stream holds that have not reached our `data` handler yet. */
function buffered(sub: AllStreamSubscription): number {
  return (sub as { readableLength?: number }).readableLength ?? 0;
}

function positionOf(resolved: ResolvedEvent | AllStreamResolvedEvent): bigint {
  return resolved.event?.position?.commit ?? resolved.commitPosition ?? -1n;
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const e = resolved.event;
  if (!e || e.type.startsWith('$') || e.streamId.startsWith('$')) return undefined;
  return {
    id: e.id,
    streamId: e.streamId,
    revision: e.revision,
    position: positionOf(resolved),
    type: e.type,
    // Events written by other tools may be binary; ours are always JSON objects.
    data: e.isJson && isJsonObject(e.data) ? e.data : {},
    metadata: isJsonObject(e.metadata) ? e.metadata : {},
    recordedAt: e.created,
  };
}

function isJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function toEsdbExpected(
  expected: ExpectedRevision,
): typeof ANY | typeof NO_STREAM | typeof STREAM_EXISTS | bigint {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return expected;
}

/**
 * Translates the client's errors into the port's. What the store says it refused maps to a
 * port error; anything else the client or the network throws (not ready, too busy, an error
 * this code does not recognise) is the store failing to answer: StoreUnavailableError, a 503.
 * Only our own programming errors pass through (and become 500s).
 */
export function mapError(err: unknown, streamId?: string, expected?: ExpectedRevision): Error {
  if (err instanceof EventStoreError) return err;
  if (err instanceof EsdbWrongExpectedVersionError) {
    const actual = typeof err.actualVersion === 'bigint' ? err.actualVersion : -1n;
    return new WrongExpectedRevisionError(streamId ?? err.streamName, expected ?? 'any', actual);
  }
  if (err instanceof EsdbStreamNotFoundError)
    return new StreamNotFoundError(streamId ?? String(err.streamName));
  if (err instanceof EsdbMaxAppendSizeExceededError) {
    return new AppendTooLargeError(streamId ?? 'unknown', err.maxAppendSize || undefined);
  }
  if (err instanceof EsdbStreamDeletedError) return new StreamDeletedError(streamId ?? err.streamName);
  if (err instanceof EsdbAccessDeniedError) {
    return new StoreAccessDeniedError(`EventStoreDB denied access: ${err.message}`, err);
  }
  if (isProgrammingError(err)) return err;
  return new StoreUnavailableError(
    `EventStoreDB unavailable: ${err instanceof Error ? err.message : String(err)}`,
    err,
  );
}

/** Errors that only our own code throws: passing them on keeps bugs visible as bugs. */
function isProgrammingError(err: unknown): err is Error {
  return (
    !isCommandError(err as Error) &&
    (err instanceof TypeError ||
      err instanceof RangeError ||
      err instanceof ReferenceError ||
      err instanceof SyntaxError)
  );
}

/**
 * Runs a leader-only call, once more when a follower answered "not leader": the client has
 * then started reconnecting to the leader the follower named. A follower refuses before doing
 * anything, so the second call never repeats a write.
 */
async function onLeader<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof EsdbNotLeaderError)) throw err;
    // The client switches its channel asynchronously after the failed call; let it.
    await new Promise((resolve) => setImmediate(resolve));
    return call();
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
