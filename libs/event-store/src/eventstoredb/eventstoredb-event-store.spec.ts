import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createEventStore } from '../create-event-store';
import {
  AppendTooLargeError,
  StoreAccessDeniedError,
  StoreUnavailableError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
} from '../errors';
import type { EventStore, RecordedEvent, SubscriptionMessage } from '../event-store.port';
import { eventStoreContract } from '../testing/event-store.contract';
import { waitFor } from '@app/testing';
import {
  EsdbNotLeaderError,
  EsdbStreamNotFoundError,
  EsdbUnavailableError,
  EsdbWrongExpectedVersionError,
  buildFilteredReadAllRequest,
  eventTypeFilter,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type EsdbClient,
  type EventStoreDBClient,
  type FilteredReadAllOptions,
} from './eventstoredb-client';
import {
  AccessDeniedError,
  MaxAppendSizeExceededError,
  StreamDeletedError as EsdbStreamDeletedError,
  UnknownError,
} from '@eventstore/db-client';
import { EsdbSubscription, EventStoreDbEventStore, mapError, serverFilter } from './eventstoredb-event-store';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  eventStoreContract('EventStoreDB', async () => {
    const store = new EventStoreDbEventStore(connectionString);
    return { store, cleanup: () => store.close() };
  });
} else {
  const reason = 'skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server)';
  // Said out loud so that a run without a server never reads as a passing adapter.
  console.warn(`EventStoreDB adapter contract ${reason}`);
  describe('EventStoreDB adapter contract', () => {
    it.skip(reason, () => undefined);
  });
}

describe('EventStoreDB adapter without a working server', () => {
  const ev = () => ({ id: randomUUID(), type: 'T', data: {} });

  it('fails fast with StoreUnavailableError when nothing listens (the HTTP layer answers 503)', async () => {
    const store = await createEventStore({
      kind: 'eventstoredb',
      connectionString: 'esdb://127.0.0.1:1?tls=false',
    });
    const started = Date.now();
    try {
      await expect(store.append(`outage-${randomUUID()}`, [ev()], 'any')).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(store.readStream('anything')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(firstMessage(store)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await store.close();
    }
  }, 20_000);

  describe('when the server accepts connections but never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('gives up after its deadline with StoreUnavailableError', async () => {
      const port = (server.address() as { port: number }).port;
      const store = new EventStoreDbEventStore(`esdb://127.0.0.1:${port}?tls=false`, {
        deadlineMs: 300,
        backgroundDeadlineMs: 300,
      });
      try {
        const started = Date.now();
        await expect(store.append(`hang-${randomUUID()}`, [ev()], 'any')).rejects.toBeInstanceOf(
          StoreUnavailableError,
        );
        await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(store.readStream('anything')).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        await store.close();
      }
    }, 20_000);
  });
});

describe('EventStoreDB error mapping', () => {
  it('maps WrongExpectedVersion to WrongExpectedRevisionError with the current revision', () => {
    const err = mapError(
      new EsdbWrongExpectedVersionError(undefined, { streamName: 's-1', expected: 2n, current: 5n }),
      's-1',
      2n,
    );
    expect(err).toBeInstanceOf(WrongExpectedRevisionError);
    expect(err).toMatchObject({ streamId: 's-1', expected: 2n, actual: 5n });
  });

  it('maps a missing stream in WrongExpectedVersion to actual -1', () => {
    const err = mapError(
      new EsdbWrongExpectedVersionError(undefined, {
        streamName: 's-1',
        expected: 'stream_exists',
        current: 'no_stream',
      }),
      's-1',
      'stream_exists',
    );
    expect(err).toMatchObject({ streamId: 's-1', expected: 'stream_exists', actual: -1n });
  });

  it('maps StreamNotFound to StreamNotFoundError naming the stream read', () => {
    const err = mapError(new EsdbStreamNotFoundError(undefined, 's-2'), 's-2');
    expect(err).toBeInstanceOf(StreamNotFoundError);
    expect((err as StreamNotFoundError).streamId).toBe('s-2');
  });

  it.each([
    [
      'a raw gRPC UNAVAILABLE',
      Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }),
    ],
    ['a raw gRPC DEADLINE_EXCEEDED', Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 })],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a failed cluster discovery', new Error('Failed to discover after 10 attempts.')],
  ])('maps %s to StoreUnavailableError, keeping the cause', (_label, cause) => {
    const err = mapError(cause);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).cause).toBe(cause);
  });

  it('passes other errors through unchanged', () => {
    const other = new TypeError('bug');
    expect(mapError(other)).toBe(other);
  });
});

describe('EventStoreDB server-side filters', () => {
  it('sends the stream prefixes when both prefixes and types are asked for (types are checked here)', () => {
    expect(serverFilter({ streamPrefixes: ['user-'], eventTypes: ['Created'] })).toMatchObject({
      filterOn: 'streamName',
      prefixes: ['user-'],
    });
  });

  it('matches event types exactly, escaping regex characters', () => {
    const filter = serverFilter({ eventTypes: ['user.created', 'Group+'] });
    expect(filter).toMatchObject({ filterOn: 'eventType', regex: '^(?:user\\.created|Group\\+)$' });
    const regex = new RegExp((filter as { regex: string }).regex);
    expect(['user.created', 'Group+'].every((t) => regex.test(t))).toBe(true);
    expect(['userXcreated', 'user.created2', 'Groupp'].some((t) => regex.test(t))).toBe(false);
  });

  it('excludes system events when there is no filter', () => {
    const filter = serverFilter(undefined) as { filterOn: string; regex: string };
    expect(filter.filterOn).toBe('eventType');
    expect(new RegExp(filter.regex).test('$statsCollected')).toBe(false);
    expect(new RegExp(filter.regex).test('UserCreated')).toBe(true);
  });

  it.each([
    [1, 1, 1],
    [10, 10, 1],
    [100, 32, 3],
    [1000, 32, 31],
  ])('checkpoints at most every %i events: window %i times %i', (interval, window, multiplier) => {
    expect(serverFilter({ streamPrefixes: ['x'] }, interval)).toMatchObject({
      maxSearchWindow: window,
      checkpointInterval: multiplier,
    });
    expect(window * multiplier).toBeLessThanOrEqual(interval);
  });

  it('builds a filtered $all read request with position, direction, count and expression', () => {
    const byPrefix = buildFilteredReadAllRequest({
      fromPosition: { commit: 1234n, prepare: 1234n },
      direction: 'backwards',
      maxCount: 25,
      filter: streamNameFilter({ prefixes: ['user-', 'group-'] }),
    }).toObject().options;
    expect(byPrefix?.all?.position).toEqual({ commitPosition: '1234', preparePosition: '1234' });
    expect(byPrefix?.readDirection).toBe(1);
    expect(byPrefix?.count).toBe('25');
    expect(byPrefix?.filter?.streamIdentifier?.prefixList).toEqual(['user-', 'group-']);
    expect(byPrefix?.subscription).toBeUndefined();

    const byType = buildFilteredReadAllRequest({
      fromPosition: 'start',
      direction: 'forwards',
      maxCount: 1,
      filter: eventTypeFilter({ regex: '^A$' }),
    }).toObject().options;
    expect(byType?.all?.start).toBeDefined();
    expect(byType?.readDirection).toBe(0);
    expect(byType?.filter?.eventType?.regex).toBe('^A$');
  });
});

/** Stands in for the client's subscription stream: a readable that emits data/caughtUp/error/end. */
class FakeServerSubscription extends EventEmitter {
  paused = false;
  unsubscribed = false;
  options: { filter?: { checkpointReached?: (s: unknown, p: { commit: bigint; prepare: bigint }) => void } } =
    {};
  /** Events the client's readable holds while paused (they reach `data` handlers on resume). */
  private readonly buffer: unknown[] = [];
  get readableLength(): number {
    return this.buffer.length;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    while (!this.paused && this.buffer.length > 0) {
      // As in a Readable, a chunk leaves the buffer before its `data` event.
      this.emit('data', this.buffer.shift());
    }
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
  }
  send(streamId: string, type: string, position: bigint, data = {}): void {
    const item = {
      event: {
        streamId,
        type,
        id: randomUUID(),
        revision: 0n,
        isJson: true,
        data,
        metadata: {},
        created: new Date(),
        position: { commit: position, prepare: position },
      },
    };
    // Like the client's Transform: data waits in the readable buffer while paused, whereas
    // checkpoints and caughtUp are reported as they come off the wire.
    if (this.paused || this.buffer.length > 0) this.buffer.push(item);
    else this.emit('data', item);
  }
  checkpoint(position: bigint): void {
    this.options.filter?.checkpointReached?.(this, { commit: position, prepare: position });
  }
}

describe('EventStoreDB subscription', () => {
  let server: FakeServerSubscription;
  let store: { head: bigint; pending: RecordedEvent[]; readAll: jest.Mock; headPosition: jest.Mock };
  const open = (options: ConstructorParameters<typeof EsdbSubscription>[2], interval = 1000) => {
    const client = {
      subscribeToAll: (opts: FakeServerSubscription['options']) => {
        server.options = opts;
        return server;
      },
    } as unknown as Pick<EventStoreDBClient, 'subscribeToAll'>;
    const sub = new EsdbSubscription(client, store, options, interval, 20, 1000, () => undefined);
    const it = sub[Symbol.asyncIterator]();
    return { sub, next: () => it.next().then((r) => (r.done ? undefined : r.value)) };
  };

  beforeEach(() => {
    server = new FakeServerSubscription();
    store = {
      head: -1n,
      pending: [],
      readAll: jest.fn(async () => store.pending),
      headPosition: jest.fn(async () => store.head),
    };
  });

  it('delivers matching events and drops system events and what the server half of the filter let through', async () => {
    const { sub, next } = open({ filter: { streamPrefixes: ['user-'], eventTypes: ['Created'] } });
    server.send('user-1', '$>', 10n);
    server.send('user-1', 'Renamed', 20n);
    server.send('user-1', 'Created', 30n, { n: 1 });
    const m = (await next()) as Extract<SubscriptionMessage, { kind: 'event' }>;
    expect([m.kind, m.event.streamId, m.event.type, m.event.position, m.event.data]).toEqual([
      'event',
      'user-1',
      'Created',
      30n,
      { n: 1 },
    ]);
    await sub.unsubscribe();
  });

  it('sends its own checkpoint after checkpointInterval events dropped here', async () => {
    const { sub, next } = open({ filter: { streamPrefixes: ['user-'], eventTypes: ['Created'] } }, 3);
    for (let p = 1n; p <= 7n; p++) server.send('user-1', 'Renamed', p * 10n);
    expect(await next()).toEqual({ kind: 'checkpoint', position: 30n });
    expect(await next()).toEqual({ kind: 'checkpoint', position: 60n });
    await sub.unsubscribe();
  });

  it('passes server checkpoints on, never going backwards', async () => {
    const { sub, next } = open({ filter: { eventTypes: ['Created'] } });
    server.checkpoint(100n);
    server.send('user-1', 'Created', 150n);
    server.checkpoint(120n);
    server.checkpoint(200n);
    expect(await next()).toEqual({ kind: 'checkpoint', position: 100n });
    expect((await next())?.kind).toBe('event');
    expect(await next()).toEqual({ kind: 'checkpoint', position: 200n });
    await sub.unsubscribe();
  });

  it('reports caught-up when the server says so, at the last position received', async () => {
    const { sub, next } = open({ fromPosition: 5n });
    server.send('user-1', 'Created', 40n);
    server.emit('caughtUp');
    expect((await next())?.kind).toBe('event');
    expect(await next()).toEqual({ kind: 'caught-up', position: 40n });
    await sub.unsubscribe();
  });

  it('finds out itself that it caught up when the server never says (servers before 23.10)', async () => {
    store.head = 900n;
    const { sub, next } = open({ fromPosition: 5n, filter: { eventTypes: ['Created'] } });
    server.send('user-1', 'Created', 40n);
    expect((await next())?.kind).toBe('event');
    expect(await next()).toEqual({ kind: 'caught-up', position: 900n });
    expect(store.readAll).toHaveBeenCalledWith({
      fromPosition: 40n,
      filter: { eventTypes: ['Created'] },
      maxCount: 2,
    });
    server.emit('caughtUp');
    server.send('user-1', 'Created', 950n);
    expect((await next())?.kind).toBe('event');
    await sub.unsubscribe();
  });

  it('does not report caught-up while a matching event is still on its way', async () => {
    store.head = 900n;
    store.pending = [{ position: 800n } as RecordedEvent];
    const { sub, next } = open({ fromPosition: 5n });
    // Several probes find the event still on its way; none of them may report caught-up.
    await waitFor(() => store.readAll.mock.calls.length >= 3, { what: 'three caught-up probes' });
    store.pending = [];
    server.send('user-1', 'Created', 800n);
    expect((await next())?.kind).toBe('event');
    expect(await next()).toEqual({ kind: 'caught-up', position: 900n });
    await sub.unsubscribe();
  });

  it('throws StoreUnavailableError when the connection fails or the server ends the subscription', async () => {
    const failing = open({});
    server.emit('error', Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }));
    await expect(failing.next()).rejects.toBeInstanceOf(StoreUnavailableError);
    server = new FakeServerSubscription();
    const ended = open({});
    server.emit('end');
    await expect(ended.next()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('ends a pending next() on unsubscribe and cancels the server subscription', async () => {
    const { sub, next } = open({});
    const pending = next();
    await sub.unsubscribe();
    expect(await pending).toBeUndefined();
    expect(server.unsubscribed).toBe(true);
  });

  it('pauses the server while more than 1000 messages wait, and resumes once drained', async () => {
    const { sub, next } = open({});
    for (let p = 1n; p <= 1001n; p++) server.send('user-1', 'Created', p);
    expect(server.paused).toBe(true);
    for (let i = 0; i < 902; i++) await next();
    expect(server.paused).toBe(false);
    await sub.unsubscribe();
  });

  it('never lets a checkpoint or caught-up overtake events the paused client still buffers', async () => {
    const { sub, next } = open({ filter: { streamPrefixes: ['user-'] } });
    for (let p = 1n; p <= 1001n; p++) server.send('user-1', 'Created', p);
    expect(server.paused).toBe(true);
    for (let p = 1002n; p <= 1010n; p++) server.send('user-1', 'Created', p);
    server.checkpoint(1500n);
    server.emit('caughtUp');
    const seen: string[] = [];
    let last = 0n;
    while (!seen.includes('caught-up')) {
      const m = (await next())!;
      const position = m.kind === 'event' ? m.event.position : m.position;
      expect(position).toBeGreaterThanOrEqual(last);
      last = position;
      if (m.kind !== 'event' || m.event.position > 1000n) seen.push(m.kind === 'event' ? String(position) : m.kind);
    }
    expect(seen).toEqual([...Array.from({ length: 10 }, (_, i) => String(1001 + i)), 'checkpoint', 'caught-up']);
    await sub.unsubscribe();
  });
});

async function firstMessage(store: EventStore): Promise<SubscriptionMessage | undefined> {
  const sub = store.subscribeToAll();
  try {
    return (await sub[Symbol.asyncIterator]().next()).value;
  } finally {
    await sub.unsubscribe();
  }
}

/** A read call's stream as the client returns it: async-iterable, destroyable, cancellable. */
function fakeRead<E>(items: readonly E[] | (() => Promise<readonly E[]>)) {
  return {
    async *[Symbol.asyncIterator]() {
      for (const item of typeof items === 'function' ? await items() : items) yield item;
    },
    destroy: () => undefined,
    cancel: async () => undefined,
  };
}

const resolvedAt = (position: bigint, streamId = 'user-1', type = 'Created'): AllStreamResolvedEvent =>
  ({
    event: {
      streamId,
      type,
      id: randomUUID(),
      revision: 0n,
      isJson: true,
      data: {},
      metadata: {},
      created: new Date(),
      position: { commit: position, prepare: position },
    },
  }) as unknown as AllStreamResolvedEvent;

/** Whatever the client throws, built without a server (the client builds them from gRPC errors). */
const clientError = <T extends object>(type: new (...args: never[]) => T, props: object = {}): T =>
  Object.assign(Object.create(type.prototype) as T, { message: type.name }, props);

/**
 * Stands in for the subset of @eventstore/db-client the adapter uses. Appends and reads answer
 * from scripted behaviours (a value or a thrown client error); every call's options are kept.
 */
class FakeEsdbClient implements EsdbClient {
  readonly appendCalls: { streamId: string; options: Record<string, unknown> }[] = [];
  readonly readStreamCalls: Record<string, unknown>[] = [];
  readonly readAllCalls: FilteredReadAllOptions[] = [];
  appendScript: (() => unknown)[] = [];
  readStreamScript: (() => unknown)[] = [];
  readAllScript: ((options: FilteredReadAllOptions) => Promise<readonly AllStreamResolvedEvent[]>)[] = [];
  log: AllStreamResolvedEvent[] = [];

  appendToStream = (async (streamId: string, _events: unknown, options: Record<string, unknown>) => {
    this.appendCalls.push({ streamId, options });
    const step = this.appendScript.shift();
    return step ? step() : { success: true, nextExpectedRevision: 0n, position: { commit: 10n, prepare: 10n } };
  }) as unknown as EsdbClient['appendToStream'];

  readStream = ((_streamId: string, options: Record<string, unknown>) => {
    this.readStreamCalls.push(options);
    const step = this.readStreamScript.shift();
    return fakeRead(async () => (step ? (step() as AllStreamResolvedEvent[]) : [resolvedAt(10n)]));
  }) as unknown as EsdbClient['readStream'];

  readAllFiltered = ((options: FilteredReadAllOptions) => {
    this.readAllCalls.push(options);
    const step = this.readAllScript.shift();
    return fakeRead(() => (step ? step(options) : Promise.resolve(this.page(options))));
  }) as unknown as EsdbClient['readAllFiltered'];

  subscribeToAll = (() => {
    throw new Error('not used here');
  }) as unknown as EsdbClient['subscribeToAll'];

  async dispose(): Promise<void> {}

  /** Forwards pages of `log` as the server serves them (inclusive start position). */
  page({ fromPosition, maxCount, direction }: FilteredReadAllOptions): AllStreamResolvedEvent[] {
    const at = (e: AllStreamResolvedEvent) => e.event!.position.commit;
    const events = direction === 'backwards' ? [...this.log].reverse() : this.log;
    const from = typeof fromPosition === 'object' ? fromPosition.commit : undefined;
    return events
      .filter((e) => from === undefined || (direction === 'backwards' ? at(e) < from : at(e) >= from))
      .slice(0, maxCount);
  }
}

describe('EventStoreDB adapter against a stand-in client', () => {
  let client: FakeEsdbClient;
  let store: EventStoreDbEventStore;
  const ev = () => ({ id: randomUUID(), type: 'T', data: {} });

  beforeEach(() => {
    client = new FakeEsdbClient();
    store = new EventStoreDbEventStore(client, { deadlineMs: 50, backgroundDeadlineMs: 5000, readPageSize: 2 });
  });
  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
  });

  it('sends appends and stream reads (what decisions are made from) to the leader', async () => {
    await store.append('user-1', [ev()], 3n);
    await store.readStream('user-1');
    expect(client.appendCalls[0].options).toMatchObject({ expectedRevision: 3n, requiresLeader: true });
    expect(client.readStreamCalls[0]).toMatchObject({ requiresLeader: true });
  });

  it('retries once when a follower answers "not leader", then gives up with a 503', async () => {
    client.appendScript = [() => Promise.reject(clientError(EsdbNotLeaderError))];
    await expect(store.append('user-1', [ev()], 3n)).resolves.toMatchObject({ position: 10n });
    expect(client.appendCalls).toHaveLength(2);
    client.readStreamScript = [
      () => {
        throw clientError(EsdbNotLeaderError);
      },
    ];
    await expect(store.readStream('user-1')).resolves.toHaveLength(1);

    client.appendScript = [
      () => Promise.reject(clientError(EsdbNotLeaderError)),
      () => Promise.reject(clientError(EsdbNotLeaderError)),
    ];
    await expect(store.append('user-1', [ev()], 3n)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(client.appendCalls).toHaveLength(4);
  });

  it.each([
    ['the maximum append size exceeded', clientError(MaxAppendSizeExceededError, { maxAppendSize: 1048576 }), AppendTooLargeError],
    ['a deleted stream', clientError(EsdbStreamDeletedError, { streamName: 'user-1' }), StreamDeletedError],
    ['access denied', clientError(AccessDeniedError), StoreAccessDeniedError],
    ['an unknown server error', clientError(UnknownError), StoreUnavailableError],
    ['a server that is not ready', new Error('Server Is Not Ready'), StoreUnavailableError],
    ['a server that is too busy', new Error('Server Is Too Busy'), StoreUnavailableError],
  ])('maps %s on append to the port error the HTTP layer answers for', async (_label, thrown, expected) => {
    client.appendScript = [() => Promise.reject(thrown)];
    const err = await store.append('user-1', [ev()], 3n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(expected);
    if (err instanceof AppendTooLargeError) expect(err).toMatchObject({ streamId: 'user-1', maxAppendSize: 1048576 });
  });

  it('reads $all with a bounded server search window, page by page', async () => {
    client.log = [10n, 20n, 30n, 40n, 50n].map((p) => resolvedAt(p));
    const events = await store.readAll({ filter: { streamPrefixes: ['user-'] } });
    expect(events.map((e) => e.position)).toEqual([10n, 20n, 30n, 40n, 50n]);
    expect(client.readAllCalls.length).toBeGreaterThan(2);
    for (const call of client.readAllCalls) {
      expect(call.maxCount).toBeLessThanOrEqual(3);
      expect(call.filter.maxSearchWindow).toEqual(expect.any(Number));
    }
  });

  it('resumes a background $all read from where a failed page stopped', async () => {
    client.log = [10n, 20n, 30n, 40n, 50n].map((p) => resolvedAt(p));
    client.readAllScript = [
      (o) => Promise.resolve(client.page(o)),
      () => Promise.reject(clientError(EsdbUnavailableError)),
    ];
    const events = await store.readAll();
    expect(events.map((e) => e.position)).toEqual([10n, 20n, 30n, 40n, 50n]);
    const starts = client.readAllCalls.map((c) => (typeof c.fromPosition === 'object' ? c.fromPosition.commit : c.fromPosition));
    expect(starts.slice(0, 3)).toEqual(['start', 20n, 20n]);
  });

  it('gives background reads a longer deadline than requests, and headPosition the short one', async () => {
    jest.useFakeTimers();
    client.log = [resolvedAt(10n)];
    let answer!: () => void;
    const slow = (o: FilteredReadAllOptions) =>
      new Promise<readonly AllStreamResolvedEvent[]>((resolve) => (answer = () => resolve(client.page(o))));
    client.readAllScript = [slow];
    const background = store.readAll({ maxCount: 1 });
    await jest.advanceTimersByTimeAsync(1000);
    answer();
    await expect(background).resolves.toHaveLength(1);

    client.readAllScript = [slow];
    const head = store.headPosition().catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100);
    expect(await head).toBeInstanceOf(StoreUnavailableError);
  });
});
