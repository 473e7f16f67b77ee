import type {
  AppendResult,
  EventData,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  SubscribeOptions,
  Subscription,
} from '@app/event-store';

/**
 * Reports the commit position of every append this process makes, so read-your-writes
 * knows what the read models must include before a query answers. One wrapper instead of
 * every handler remembering to report. A plain delegating class (not a Proxy): every read of
 * a create goes through it, and a Proxy trap allocated a bound function per call.
 */
export class TrackingEventStore implements EventStore {
  readonly name: EventStore['name'];
  readonly supportsMultiStreamAppend: boolean;

  constructor(
    private readonly store: EventStore,
    private readonly wrote: (position: bigint) => void,
    private readonly applied?: (position: bigint) => Promise<unknown> | undefined,
  ) {
    this.name = store.name;
    this.supportsMultiStreamAppend = store.supportsMultiStreamAppend;
    if (store.readStreams) this.readStreams = store.readStreams.bind(store);
  }

  async append(streamId: string, events: readonly EventData[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    return this.settled(await this.store.append(streamId, events, expectedRevision));
  }

  async appendMulti(appends: readonly StreamAppend[]): Promise<AppendResult> {
    return this.settled(await this.store.appendMulti(appends));
  }

  /**
   * Reported after the wait for its application, when the append waits for that anyway: every
   * query of every tenant waits for the highest reported position, and a group write of
   * thousands of members takes seconds of slices to apply, which no other tenant's read needs
   * to wait for. Nothing is lost: no one has seen the write before its ack; once applied, the
   * report costs later queries nothing; past the wait's bound, queries wait for it as before.
   */
  private async settled(r: AppendResult): Promise<AppendResult> {
    const wait = this.applied?.(r.position);
    if (wait) await wait;
    this.wrote(r.position);
    return r;
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.store.readStream(streamId, options);
  }

  readStreams?: (streamIds: readonly string[]) => Promise<Map<string, RecordedEvent[]>>;

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.store.readAll(options);
  }

  subscribeToAll(options?: SubscribeOptions): Subscription {
    return this.store.subscribeToAll(options);
  }

  headPosition(): Promise<bigint> {
    return this.store.headPosition();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/**
 * `applied`, when given, returns a promise to await before an append resolves (or nothing
 * when there is nothing to wait for): on the embedded store, so that an acknowledged write is
 * applied even when it was too large to apply inline (or came behind one that was).
 */
export function trackWrites(
  store: EventStore,
  wrote: (position: bigint) => void,
  applied?: (position: bigint) => Promise<unknown> | undefined,
): EventStore {
  return new TrackingEventStore(store, wrote, applied);
}
