import { StoreUnavailableError, StreamNotFoundError, UnsupportedOperationError, WrongExpectedRevisionError } from '../errors';
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
  EsdbCancelledError,
  EsdbDeadlineExceededError,
  EsdbNotLeaderError,
  EsdbStreamNotFoundError,
  EsdbTimeoutError,
  EsdbUnavailableError,
  EsdbWrongExpectedVersionError,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamSubscription,
  type Filter,
  type ResolvedEvent,
} from './eventstoredb-client';

/** Calls fail fast when the store is down, so the HTTP layer answers 503 quickly. */
const DEADLINE_MS = 3000;
const QUEUE_HIGH = 1000;
const QUEUE_LOW = 100;

/**
 * EventStoreDB (KurrentDB) behind the port. Positions are commit positions; EventStoreDB
 * writes commit == prepare for every event appended through gRPC, so a position alone is
 * enough to resume reads and subscriptions. Multi-stream atomic append is not offered here
 * (the reservation saga covers it); system streams and events never reach callers.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly name = 'eventstoredb' as const;
  readonly supportsMultiStreamAppend = false;
  private readonly client: EventStoreDBClient;

  constructor(connectionString: string) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async append(streamId: string, events: readonly EventData[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: e.metadata ?? {} })),
        { expectedRevision: toEsdbExpected(expectedRevision), deadline: DEADLINE_MS },
      );
      return { nextExpectedRevision: result.nextExpectedRevision, position: result.position?.commit ?? -1n };
    } catch (err) {
      throw mapError(err, streamId, expectedRevision);
    }
  }

  async appendMulti(_appends: readonly StreamAppend[]): Promise<AppendResult> {
    throw new UnsupportedOperationError('EventStoreDB adapter: atomic multi-stream append is not available; use the reservation saga');
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const out: RecordedEvent[] = [];
    try {
      const reader = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision ?? (backwards ? END : START),
        ...(options.maxCount !== undefined ? { maxCount: BigInt(options.maxCount) } : {}),
        deadline: DEADLINE_MS,
      });
      for await (const resolved of reader) {
        const e = toRecorded(resolved as ResolvedEvent);
        if (e) out.push(e);
      }
    } catch (err) {
      throw mapError(err, streamId);
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const out: RecordedEvent[] = [];
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    try {
      const reader = this.client.readAll({
        direction: backwards ? BACKWARDS : FORWARDS,
        fromPosition:
          options.fromPosition === undefined
            ? backwards
              ? END
              : START
            : { commit: options.fromPosition, prepare: options.fromPosition },
        // This client version reads $all unfiltered: the filter (and the exclusion of system
        // events) is applied here, and maxCount after it.
        deadline: DEADLINE_MS,
      });
      for await (const resolved of reader) {
        const e = toRecorded(resolved as ResolvedEvent);
        if (!e || !matchesFilter(options.filter, e.streamId, e.type)) continue;
        out.push(e);
        if (out.length >= max) break;
      }
    } catch (err) {
      throw mapError(err);
    }
    return out;
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    return new EsdbSubscription(this.client, options);
  }

  async headPosition(): Promise<bigint> {
    const [last] = await this.readAll({ direction: 'backwards', maxCount: 1 });
    return last?.position ?? -1n;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}

/** A push queue over the client's subscription stream, with backpressure. */
class EsdbSubscription implements Subscription {
  private readonly queue: (SubscriptionMessage | { kind: 'error'; error: unknown } | { kind: 'end' })[] = [];
  private wake?: () => void;
  private readonly sub: AllStreamSubscription;
  private ended = false;

  constructor(client: EventStoreDBClient, private readonly options: SubscribeOptions) {
    const push = (m: (typeof this.queue)[number]) => {
      this.queue.push(m);
      if (this.queue.length > QUEUE_HIGH) this.sub.pause();
      this.wake?.();
    };
    this.sub = client.subscribeToAll({
      fromPosition: options.fromPosition === undefined ? START : { commit: options.fromPosition, prepare: options.fromPosition },
      filter: serverFilter(options.filter, options.checkpointInterval, (position) => push({ kind: 'checkpoint', position })),
    });
    this.sub.on('data', (resolved: ResolvedEvent) => {
      const e = toRecorded(resolved);
      if (e && matchesFilter(options.filter, e.streamId, e.type)) push({ kind: 'event', event: e });
    });
    this.sub.on('caughtUp', () => push({ kind: 'caught-up', position: -1n }));
    this.sub.on('error', (error: unknown) => push({ kind: 'error', error }));
    this.sub.on('end', () => push({ kind: 'end' }));
  }

  async unsubscribe(): Promise<void> {
    this.ended = true;
    this.wake?.();
    await this.sub.unsubscribe().catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    let last = this.options.fromPosition ?? -1n;
    while (!this.ended) {
      const m = this.queue.shift();
      if (!m) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      if (this.queue.length < QUEUE_LOW && this.sub.isPaused()) this.sub.resume();
      if (m.kind === 'end') return;
      if (m.kind === 'error') throw mapError(m.error);
      if (m.kind === 'event') last = m.event.position;
      yield m.kind === 'caught-up' ? { kind: 'caught-up', position: last } : m;
    }
  }
}

function serverFilter(filter: EventFilter | undefined, checkpointInterval?: number, onCheckpoint?: (position: bigint) => void): Filter {
  const common = {
    ...(checkpointInterval ? { checkpointInterval } : {}),
    ...(onCheckpoint ? { checkpointReached: (_s: unknown, p: { commit: bigint }) => onCheckpoint(p.commit) } : {}),
  };
  if (filter?.eventTypes && filter.eventTypes.length > 0) {
    const regex = `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$`;
    return eventTypeFilter({ regex, ...common });
  }
  if (filter?.streamPrefixes && filter.streamPrefixes.length > 0) {
    return streamNameFilter({ prefixes: [...filter.streamPrefixes], ...common });
  }
  return excludeSystemEvents(common);
}

function toRecorded(resolved: ResolvedEvent): RecordedEvent | undefined {
  const e = resolved.event;
  if (!e || e.type.startsWith('$') || e.streamId.startsWith('$')) return undefined;
  return {
    id: e.id,
    streamId: e.streamId,
    revision: e.revision,
    position: e.position?.commit ?? resolved.commitPosition ?? -1n,
    type: e.type,
    data: (e.isJson ? e.data : {}) as JsonObject,
    metadata: (e.metadata && typeof e.metadata === 'object' && !(e.metadata instanceof Uint8Array) ? e.metadata : {}) as JsonObject,
    recordedAt: e.created instanceof Date ? e.created : new Date(Number(e.created) / 10_000 - 62_135_596_800_000),
  };
}

function toEsdbExpected(expected: ExpectedRevision) {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return expected;
}

function mapError(err: unknown, streamId?: string, expected?: ExpectedRevision): Error {
  if (err instanceof EsdbWrongExpectedVersionError) {
    const actual = typeof err.actualVersion === 'bigint' ? err.actualVersion : -1n;
    return new WrongExpectedRevisionError(err.streamName ?? streamId ?? '', expected ?? 'any', actual);
  }
  if (err instanceof EsdbStreamNotFoundError) return new StreamNotFoundError(streamId ?? '');
  if (
    err instanceof EsdbUnavailableError ||
    err instanceof EsdbDeadlineExceededError ||
    err instanceof EsdbNotLeaderError ||
    err instanceof EsdbTimeoutError ||
    err instanceof EsdbCancelledError
  ) {
    return new StoreUnavailableError(`EventStoreDB unavailable: ${(err as Error).message}`, err);
  }
  const code = (err as { code?: unknown }).code;
  if (code === 14 || code === 4) return new StoreUnavailableError(`EventStoreDB unavailable: ${(err as Error).message}`, err);
  return err instanceof Error ? err : new Error(String(err));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
