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
  SubscriptionMessage,
} from '@app/event-store';
import { Slicer } from '@app/projections';
import type { PersonalDataSealer } from './personal-data.sealer';

/**
 * The event store as the write side and support see it: personal fields are sealed on the way
 * in and opened on the way out, so the stored bytes hold ciphertext while deciders, handlers
 * and timelines see plaintext (or `[erased]`). A decorator of the port: every adapter keeps
 * its behaviour and its contract suite. Delegating class, not a Proxy, as TrackingEventStore.
 */
export class SealingEventStore implements EventStore {
  readonly name: EventStore['name'];
  readonly supportsMultiStreamAppend: boolean;
  readStreams?: (streamIds: readonly string[]) => Promise<Map<string, RecordedEvent[]>>;

  constructor(
    private readonly store: EventStore,
    private readonly sealer: PersonalDataSealer,
  ) {
    this.name = store.name;
    this.supportsMultiStreamAppend = store.supportsMultiStreamAppend;
    if (store.readStreams) {
      const inner = store.readStreams.bind(store);
      this.readStreams = async (ids) => {
        const read = await inner(ids);
        const out = new Map<string, RecordedEvent[]>();
        for (const [id, events] of read) out.set(id, await this.opened(events));
        return out;
      };
    }
  }

  async append(streamId: string, events: readonly EventData[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    const result = await this.store.append(streamId, await this.sealer.seal(streamId, events), expectedRevision);
    await this.sealer.afterAppend(streamId, events);
    return result;
  }

  async appendMulti(appends: readonly StreamAppend[]): Promise<AppendResult> {
    const sealed: StreamAppend[] = [];
    // A big group write touches thousands of account streams: sealing them all is work for
    // every other tenant to wait behind, so it yields between slices (nothing is stored yet).
    const slicer = new Slicer();
    for (const a of appends) {
      sealed.push({ ...a, events: await this.sealer.seal(a.streamId, a.events) });
      await slicer.maybeYield();
    }
    const result = await this.store.appendMulti(sealed);
    for (const a of appends) await this.sealer.afterAppend(a.streamId, a.events);
    return result;
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.opened(await this.store.readStream(streamId, options));
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.opened(await this.store.readAll(options));
  }

  subscribeToAll(options?: SubscribeOptions): Subscription {
    return mapSubscription(this.store.subscribeToAll(options), async (e) => (await this.opened([e]))[0]);
  }

  headPosition(): Promise<bigint> {
    return this.store.headPosition();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async opened(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    await this.sealer.load(events);
    return events.map((e) => this.sealer.open(e).event);
  }
}

/**
 * The stored (sealed) events, with their persons' keys loaded before they are handed on: what
 * the projection runner reads on a store whose key table is not synchronous (PostgreSQL), so
 * that `openingProjection` opens without I/O. Appends pass through untouched (the runner makes none).
 */
export function loadingKeys(store: EventStore, sealer: PersonalDataSealer): EventStore {
  const load = async (events: RecordedEvent[]) => {
    await sealer.load(events);
    return events;
  };
  return {
    name: store.name,
    supportsMultiStreamAppend: store.supportsMultiStreamAppend,
    // The embedded store's same-transaction hook reads keys synchronously (its key table is SQLite).
    ...(store.inlineProjections ? { inlineProjections: store.inlineProjections } : {}),
    append: (id, events, expected) => store.append(id, events, expected),
    appendMulti: (appends) => store.appendMulti(appends),
    readStream: async (id, options) => load(await store.readStream(id, options)),
    ...(store.readStreams
      ? {
          readStreams: async (ids: readonly string[]) => {
            const read = await store.readStreams!(ids);
            await sealer.load([...read.values()].flat());
            return read;
          },
        }
      : {}),
    readAll: async (options) => load(await store.readAll(options)),
    subscribeToAll: (options) => mapSubscription(store.subscribeToAll(options), async (e) => (await load([e]))[0]),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
}

function mapSubscription(inner: Subscription, map: (e: RecordedEvent) => Promise<RecordedEvent>): Subscription {
  return {
    unsubscribe: () => inner.unsubscribe(),
    [Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
      const it = inner[Symbol.asyncIterator]();
      return {
        async next() {
          const r = await it.next();
          if (r.done || r.value.kind !== 'event') return r;
          return { done: false, value: { kind: 'event', event: await map(r.value.event) } };
        },
        return: async () => {
          await inner.unsubscribe();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
