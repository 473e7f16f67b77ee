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
  ) {
    this.name = store.name;
    this.supportsMultiStreamAppend = store.supportsMultiStreamAppend;
    if (store.readStreams) this.readStreams = store.readStreams.bind(store);
  }

  async append(streamId: string, events: readonly EventData[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    const r = await this.store.append(streamId, events, expectedRevision);
    this.wrote(r.position);
    return r;
  }

  async appendMulti(appends: readonly StreamAppend[]): Promise<AppendResult> {
    const r = await this.store.appendMulti(appends);
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

export function trackWrites(store: EventStore, wrote: (position: bigint) => void): EventStore {
  return new TrackingEventStore(store, wrote);
}
