import { randomUUID } from 'node:crypto';
import { StreamNotFoundError, UnsupportedOperationError, WrongExpectedRevisionError } from '../errors';
import type {
  AppendResult,
  EventData,
  EventStore,
  ExpectedRevision,
  JsonObject,
  RecordedEvent,
  Subscription,
  SubscriptionMessage,
} from '../event-store.port';

type EventMessage = Extract<SubscriptionMessage, { kind: 'event' }>;
type CheckpointMessage = Extract<SubscriptionMessage, { kind: 'checkpoint' }>;

/** A subscription message that does not arrive within this fails the test instead of hanging it. */
const MESSAGE_WAIT_MS = 10_000;

export interface OpenedEventStore {
  readonly store: EventStore;
  readonly cleanup?: () => Promise<void>;
}

/**
 * The event store's behaviour, written once; every adapter's spec runs it so the embedded
 * store and EventStoreDB stay interchangeable. Streams and event types are unique per test
 * and positions are only ever compared with positions read in the same test, so the suite
 * also runs against a shared EventStoreDB node that already holds data.
 *
 * `open` is called once for the shared store and once more by the tests that need a second
 * handle (an empty SQLite database, or a second client on the same EventStoreDB).
 */
export function eventStoreContract(name: string, open: () => Promise<OpenedEventStore>): void {
  describe(`event store contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, cleanup } = await open());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    describe('expected revisions', () => {
      it('no_stream creates a stream whose first event has revision 0', async () => {
        const s = stream();
        const r = await store.append(s, [ev()], 'no_stream');
        expect(r.nextExpectedRevision).toBe(0n);
        expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0n]);
      });

      it('no_stream on an existing stream fails with the current revision and writes nothing', async () => {
        const s = stream();
        await store.append(s, [ev(), ev()], 'no_stream');
        await expectWrongRevision(store.append(s, [ev('Late')], 'no_stream'), s, 'no_stream', 1n);
        expect(await types(s)).toEqual(['Happened', 'Happened']);
      });

      it('stream_exists on a stream that does not exist fails with actual -1 and creates nothing', async () => {
        const s = stream();
        await expectWrongRevision(store.append(s, [ev()], 'stream_exists'), s, 'stream_exists', -1n);
        await expect(store.readStream(s)).rejects.toBeInstanceOf(StreamNotFoundError);
      });

      it('stream_exists on an existing stream appends after the last event', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        expect((await store.append(s, [ev()], 'stream_exists')).nextExpectedRevision).toBe(1n);
      });

      it('the current revision as expected revision appends after it', async () => {
        const s = stream();
        await store.append(s, [ev(), ev(), ev()], 'no_stream');
        expect((await store.append(s, [ev()], 2n)).nextExpectedRevision).toBe(3n);
        expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      });

      it('a stale expected revision fails with the current revision and writes nothing', async () => {
        const s = stream();
        await store.append(s, [ev(), ev()], 'no_stream');
        await expectWrongRevision(store.append(s, [ev('Late')], 0n), s, 0n, 1n);
        expect(await types(s)).toEqual(['Happened', 'Happened']);
      });

      it('an expected revision ahead of the stream fails with the current revision', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        await expectWrongRevision(store.append(s, [ev('Early')], 5n), s, 5n, 0n);
        expect(await types(s)).toEqual(['Happened']);
      });

      it('an exact revision on a stream that does not exist fails with actual -1', async () => {
        const s = stream();
        await expectWrongRevision(store.append(s, [ev()], 0n), s, 0n, -1n);
        await expect(store.readStream(s)).rejects.toBeInstanceOf(StreamNotFoundError);
      });

      it('any appends to new and to existing streams', async () => {
        const s = stream();
        expect((await store.append(s, [ev()], 'any')).nextExpectedRevision).toBe(0n);
        expect((await store.append(s, [ev(), ev()], 'any')).nextExpectedRevision).toBe(2n);
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('revisions are 0-based and contiguous across batches', async () => {
        const s = stream();
        expect((await store.append(s, [ev(), ev(), ev()], 'no_stream')).nextExpectedRevision).toBe(2n);
        expect((await store.append(s, [ev(), ev()], 2n)).nextExpectedRevision).toBe(4n);
        expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
      });

      it('of 10 concurrent appends expecting the same revision exactly one wins', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        const racers = Array.from({ length: 10 }, (_, i) => ev('Racer', { i }));
        const results = await Promise.allSettled(racers.map((e) => store.append(s, [e], 0n)));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expectWrongRevisionError(r.reason, s, 0n, 1n);
        }
        const events = await store.readStream(s);
        expect(events).toHaveLength(2);
        expect(events[1].id).toBe(racers[winners[0]].id);
      });

      it('of 10 concurrent creations of one stream exactly one wins', async () => {
        const s = stream();
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.append(s, [ev('Created')], 'no_stream')),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expectWrongRevisionError(r.reason, s, 'no_stream', 0n);
        }
        expect(await store.readStream(s)).toHaveLength(1);
      });
    });

    describe('idempotent appends', () => {
      it('re-appending the same events at the same expected revision returns the original result', async () => {
        const s = stream();
        const batch = [ev(), ev()];
        const first = await store.append(s, batch, 'no_stream');
        const again = await store.append(s, batch, 'no_stream');
        expect(again).toEqual(first);
        expect((await store.readStream(s)).map((e) => e.id)).toEqual(batch.map((e) => e.id));
      });

      it('re-appending the same events with any returns the original result', async () => {
        const s = stream();
        await store.append(s, [ev()], 'any');
        const batch = [ev(), ev()];
        const first = await store.append(s, batch, 'any');
        const again = await store.append(s, batch, 'any');
        expect(again).toEqual(first);
        expect(first.nextExpectedRevision).toBe(2n);
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('re-appending an earlier batch after the stream moved on changes nothing', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        const batch = [ev()];
        const first = await store.append(s, batch, 0n);
        await store.append(s, [ev('Later')], 1n);
        expect(await store.append(s, batch, 0n)).toEqual(first);
        expect(await types(s)).toEqual(['Happened', 'Happened', 'Later']);
      });

      it('a batch that partially overlaps stored events is a conflict and writes nothing', async () => {
        const s = stream();
        const a = ev();
        await store.append(s, [a, ev()], 'no_stream');
        await expect(store.append(s, [a, ev('New')], 'no_stream')).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('with any, a batch that extends a stored batch is a conflict and writes nothing', async () => {
        const s = stream();
        const stored = [ev(), ev()];
        await store.append(s, stored, 'any');
        await expect(store.append(s, [...stored, ev('New')], 'any')).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        expect(await types(s)).toEqual(['Happened', 'Happened']);
      });
    });

    describe('reading a stream', () => {
      it('reads forwards in revision order with ids, types and stream id', async () => {
        const s = stream();
        const written = [ev('A'), ev('B'), ev('C')];
        await store.append(s, written, 'no_stream');
        const read = await store.readStream(s);
        expect(read.map((e) => [e.id, e.type, e.streamId, e.revision])).toEqual(
          written.map((e, i) => [e.id, e.type, s, BigInt(i)]),
        );
      });

      it('reads forwards from a revision, inclusive, up to maxCount', async () => {
        const s = stream();
        await store.append(s, numbered(5), 'no_stream');
        const read = await store.readStream(s, { fromRevision: 2n, maxCount: 2 });
        expect(read.map((e) => [e.revision, e.data.n])).toEqual([
          [2n, 2],
          [3n, 3],
        ]);
      });

      it('reads backwards from the end, and from a revision inclusive with maxCount', async () => {
        const s = stream();
        await store.append(s, numbered(4), 'no_stream');
        expect((await store.readStream(s, { direction: 'backwards' })).map((e) => e.data.n)).toEqual([
          3, 2, 1, 0,
        ]);
        const read = await store.readStream(s, { direction: 'backwards', fromRevision: 2n, maxCount: 2 });
        expect(read.map((e) => e.revision)).toEqual([2n, 1n]);
      });

      it('reading past the end of an existing stream returns nothing', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        expect(await store.readStream(s, { fromRevision: 5n })).toEqual([]);
      });

      it('reading a stream that does not exist throws StreamNotFoundError naming it, in both directions', async () => {
        const s = stream();
        const forwards = await store.readStream(s).catch((e: unknown) => e);
        expect(forwards).toBeInstanceOf(StreamNotFoundError);
        expect((forwards as StreamNotFoundError).streamId).toBe(s);
        await expect(store.readStream(s, { direction: 'backwards' })).rejects.toBeInstanceOf(
          StreamNotFoundError,
        );
      });

      it('never mixes in a stream whose id starts with the one read', async () => {
        const s = stream();
        await store.append(s, [ev('Mine')], 'no_stream');
        await store.append(`${s}0`, [ev('Other')], 'no_stream');
        expect(await types(s)).toEqual(['Mine']);
      });
    });

    describe('event contents', () => {
      it('round-trips metadata, including correlation and causation ids and nested objects', async () => {
        const s = stream();
        const metadata = {
          $correlationId: randomUUID(),
          $causationId: randomUUID(),
          actor: { kind: 'scim_token', id: 't1', scopes: ['users:write', 'groups:read'] },
          ip: null,
          attempt: 2,
        };
        await store.append(s, [ev('WithMetadata', {}, metadata)], 'no_stream');
        const [e] = await store.readStream(s);
        expect(e.metadata).toEqual(metadata);
      });

      it('round-trips unicode and every JSON value type in data', async () => {
        const s = stream();
        const data = {
          name: 'Zoë Ångström 👩‍💻 日本語 עברית',
          escaped: 'quote " backslash \\ newline \n tab \t nul-free',
          numbers: { int: 42, negative: -7, float: 3.25, big: 9007199254740991 },
          flags: [true, false],
          nothing: null,
          empty: '',
          deep: { a: { b: { c: [1, 'two', { three: 3 }, []] } } },
        };
        await store.append(s, [ev('Unicode', data)], 'no_stream');
        const [e] = await store.readStream(s);
        expect(e.data).toEqual(data);
      });

      it('an event written without metadata reads back with empty metadata', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        const [e] = await store.readStream(s);
        expect(e.metadata).toEqual({});
      });

      it('recordedAt is assigned by the store, close to now, whatever the event carries', async () => {
        const s = stream();
        const before = Date.now();
        await store.append(
          s,
          [ev('Timed', { recordedAt: '1999-01-01T00:00:00Z' }, { recordedAt: '1999-01-01T00:00:00Z' })],
          'no_stream',
        );
        const after = Date.now();
        const [e] = await store.readStream(s);
        expect(e.recordedAt).toBeInstanceOf(Date);
        // Server clocks may drift a little from ours.
        expect(e.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5000);
        expect(e.recordedAt.getTime()).toBeLessThanOrEqual(after + 5000);
      });
    });

    describe('the global log', () => {
      it('positions strictly increase across streams in append order', async () => {
        const a = stream();
        const b = stream();
        const r1 = await store.append(a, [ev()], 'no_stream');
        const r2 = await store.append(b, [ev()], 'no_stream');
        const r3 = await store.append(a, [ev()], 0n);
        expect(r2.position).toBeGreaterThan(r1.position);
        expect(r3.position).toBeGreaterThan(r2.position);
        expect((await store.readStream(a)).map((e) => e.position)).toEqual([r1.position, r3.position]);
      });

      it('the events of one batch get increasing positions, the last one being the append result', async () => {
        const s = stream();
        const r = await store.append(s, numbered(3), 'no_stream');
        const positions = (await store.readStream(s)).map((e) => e.position);
        expect(positions[1]).toBeGreaterThan(positions[0]);
        expect(positions[2]).toBeGreaterThan(positions[1]);
        expect(positions[2]).toBe(r.position);
      });

      it('readAll from a position is inclusive and honours maxCount', async () => {
        const s = stream();
        const r = await store.append(s, [ev('A'), ev('B'), ev('C')], 'no_stream');
        const [first] = await store.readStream(s);
        const read = await store.readAll({ fromPosition: first.position, maxCount: 3 });
        expect(read.map((e) => [e.streamId, e.type])).toEqual([
          [s, 'A'],
          [s, 'B'],
          [s, 'C'],
        ]);
        expect(read[2].position).toBe(r.position);
        expect(await store.readAll({ fromPosition: first.position, maxCount: 1 })).toHaveLength(1);
      });

      it('readAll backwards returns the newest events first', async () => {
        const s = stream();
        await store.append(s, [ev('Old')], 'no_stream');
        const r = await store.append(s, [ev('New')], 0n);
        // Another writer may have appended since; what we wrote must still come newest first.
        const read = await store.readAll({ direction: 'backwards', fromPosition: r.position, maxCount: 2 });
        expect(read.map((e) => e.type)).toEqual(['New', 'Old']);
        expect(read[0].position).toBe(r.position);
      });

      it('readAll backwards from a position includes that position', async () => {
        const s = stream();
        await store.append(s, numbered(3), 'no_stream');
        const [, middle] = await store.readStream(s);
        const read = await store.readAll({
          direction: 'backwards',
          fromPosition: middle.position,
          maxCount: 2,
        });
        expect(read.map((e) => [e.streamId, e.data.n])).toEqual([
          [s, 1],
          [s, 0],
        ]);
      });

      it('readAll filters by stream prefix', async () => {
        const prefix = `pfx-${randomUUID()}`;
        const { position: start } = await store.append(`${prefix}-1`, [ev('One')], 'no_stream');
        await store.append(stream(), [ev('Elsewhere')], 'no_stream');
        await store.append(`${prefix}-2`, [ev('Two')], 'no_stream');
        const read = await store.readAll({ fromPosition: start, filter: { streamPrefixes: [prefix] } });
        expect(read.map((e) => [e.streamId, e.type])).toEqual([
          [`${prefix}-1`, 'One'],
          [`${prefix}-2`, 'Two'],
        ]);
      });

      it('readAll filters by event type across streams', async () => {
        const wanted = uniqueType('Wanted');
        const other = uniqueType('Other');
        const a = stream();
        const b = stream();
        await store.append(a, [ev(wanted, { n: 1 }), ev(other)], 'no_stream');
        const start = await firstPositionIn(a);
        await store.append(b, [ev(other), ev(wanted, { n: 2 })], 'no_stream');
        const read = await store.readAll({ fromPosition: start, filter: { eventTypes: [wanted] } });
        expect(read.map((e) => [e.streamId, e.data.n])).toEqual([
          [a, 1],
          [b, 2],
        ]);
      });

      it('readAll with a stream prefix and event types keeps events matching both', async () => {
        const prefix = `both-${randomUUID()}`;
        const wanted = uniqueType('Wanted');
        await store.append(`${prefix}-1`, [ev(wanted), ev('Unwanted')], 'no_stream');
        const start = await firstPositionIn(`${prefix}-1`);
        await store.append(stream(), [ev(wanted)], 'no_stream');
        await store.append(`${prefix}-2`, [ev(wanted)], 'no_stream');
        const read = await store.readAll({
          fromPosition: start,
          filter: { streamPrefixes: [prefix], eventTypes: [wanted] },
        });
        expect(read.map((e) => [e.streamId, e.type])).toEqual([
          [`${prefix}-1`, wanted],
          [`${prefix}-2`, wanted],
        ]);
      });

      it('readAll with a filter counts maxCount in matching events, forwards and backwards', async () => {
        const wanted = uniqueType('Sparse');
        const s = stream();
        const batch = Array.from({ length: 12 }, (_, n) => ev(n % 3 === 0 ? wanted : 'Filler', { n }));
        const r = await store.append(s, batch, 'no_stream');
        const start = await firstPositionIn(s);
        const forwards = await store.readAll({
          fromPosition: start,
          maxCount: 3,
          filter: { eventTypes: [wanted] },
        });
        expect(forwards.map((e) => e.data.n)).toEqual([0, 3, 6]);
        const backwards = await store.readAll({
          direction: 'backwards',
          fromPosition: r.position,
          maxCount: 2,
          filter: { eventTypes: [wanted] },
        });
        expect(backwards.map((e) => e.data.n)).toEqual([9, 6]);
      });

      it('headPosition is at least the last append and is the position of the newest event', async () => {
        const r = await store.append(stream(), [ev()], 'no_stream');
        const head = await store.headPosition();
        expect(head).toBeGreaterThanOrEqual(r.position);
        const [newest] = await store.readAll({ direction: 'backwards', maxCount: 1 });
        // Another writer may append between the two calls.
        expect(newest.position).toBeGreaterThanOrEqual(head);
      });

      it('headPosition of a store handle is -1 when its log is empty, else the newest position', async () => {
        const second = await open();
        try {
          const head = await second.store.headPosition();
          const [newest] = await second.store.readAll({ direction: 'backwards', maxCount: 1 });
          expect(head).toBe(newest?.position ?? -1n);
          const r = await second.store.append(stream(), [ev()], 'no_stream');
          expect(await second.store.headPosition()).toBeGreaterThanOrEqual(r.position);
          expect(r.position).toBeGreaterThan(head);
        } finally {
          await second.cleanup?.();
        }
      });
    });

    describe('subscriptions', () => {
      it('deliver only events strictly after fromPosition', async () => {
        const s = stream();
        await store.append(s, numbered(3), 'no_stream');
        const [first] = await store.readStream(s);
        await withSubscription(
          store.subscribeToAll({ fromPosition: first.position, filter: { streamPrefixes: [s] } }),
          async (next) => {
            const events = await collectEvents(next, 2);
            expect(events.map((e) => e.data.n)).toEqual([1, 2]);
          },
        );
      });

      it('without fromPosition start at the beginning of the log', async () => {
        const s = stream();
        const [written] = numbered(1);
        await store.append(s, [written], 'no_stream');
        await withSubscription(store.subscribeToAll({ filter: { streamPrefixes: [s] } }), async (next) => {
          const [e] = await collectEvents(next, 1);
          expect(e.id).toBe(written.id);
        });
      });

      it('report caught-up after the existing events, then deliver live events', async () => {
        const s = stream();
        const before = await store.append(s, [ev('Before')], 'no_stream');
        await withSubscription(
          store.subscribeToAll({ fromPosition: before.position, filter: { streamPrefixes: [s] } }),
          async (next) => {
            const caughtUp = await nextOfKind(next, 'caught-up');
            expect(caughtUp.position).toBeGreaterThanOrEqual(before.position);
            const live = await store.append(s, [ev('Live')], 0n);
            const [e] = await collectEvents(next, 1);
            expect([e.type, e.position]).toEqual(['Live', live.position]);
          },
        );
      });

      it('report caught-up at or after the last event delivered during catch-up', async () => {
        const s = stream();
        const start = await store.headPosition();
        const r = await store.append(s, numbered(3), 'no_stream');
        await withSubscription(
          store.subscribeToAll({ fromPosition: start, filter: { streamPrefixes: [s] } }),
          async (next) => {
            const seen = await takeUntil(next, (m) => m.kind === 'caught-up');
            expect(eventsIn(seen).map((e) => e.data.n)).toEqual([0, 1, 2]);
            const caughtUp = seen.at(-1) as Extract<SubscriptionMessage, { kind: 'caught-up' }>;
            expect(caughtUp.position).toBeGreaterThanOrEqual(r.position);
          },
        );
      });

      it('deliver every event exactly once and in order across the catch-up to live boundary', async () => {
        const s = stream();
        const start = await store.headPosition();
        for (let i = 0; i < 10; i++) await store.append(s, [ev('Seq', { i })], 'any');
        await withSubscription(
          store.subscribeToAll({ fromPosition: start, filter: { streamPrefixes: [s] } }),
          async (next) => {
            const seen = await takeUntil(next, (m) => m.kind === 'caught-up');
            for (let i = 10; i < 20; i++) await store.append(s, [ev('Seq', { i })], 'any');
            const live = await collectEvents(next, 10);
            const all = [...eventsIn(seen), ...live];
            expect(all.map((e) => e.data.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
            expect(all.map((e) => e.revision)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
          },
        );
      });

      it('with an event type filter deliver only matching events', async () => {
        const wanted = uniqueType('Wanted');
        const a = stream();
        const b = stream();
        const start = await store.headPosition();
        await store.append(a, [ev(wanted, { n: 1 }), ev('Unwanted')], 'no_stream');
        await store.append(b, [ev('Unwanted'), ev(wanted, { n: 2 })], 'no_stream');
        await withSubscription(
          store.subscribeToAll({ fromPosition: start, filter: { eventTypes: [wanted] } }),
          async (next) => {
            const seen = await takeUntil(next, (m) => m.kind === 'caught-up');
            expect(eventsIn(seen).map((e) => [e.streamId, e.type, e.data.n])).toEqual([
              [a, wanted, 1],
              [b, wanted, 2],
            ]);
          },
        );
      });

      it('with a filter send checkpoints with increasing positions while 2500 filtered-out events pass', async () => {
        const s = stream();
        const noise = stream('noise');
        const start = await store.headPosition();
        for (let i = 0; i < 25; i++)
          await store.append(
            noise,
            Array.from({ length: 100 }, () => ev('Noise')),
            'any',
          );
        const signal = await store.append(s, [ev('Signal')], 'no_stream');
        await expectCheckpointsBeforeSignal(
          store.subscribeToAll({
            fromPosition: start,
            filter: { streamPrefixes: [s] },
            checkpointInterval: 100,
          }),
          start,
          signal,
          10,
        );
      });

      it('with a filter on stream and type send checkpoints while same-stream events of other types pass', async () => {
        const s = stream();
        const signalType = uniqueType('Signal');
        const start = await store.headPosition();
        for (let i = 0; i < 5; i++)
          await store.append(
            s,
            Array.from({ length: 100 }, () => ev('Noise')),
            'any',
          );
        const signal = await store.append(s, [ev(signalType)], 'any');
        const filter = { streamPrefixes: [s], eventTypes: [signalType] };
        await expectCheckpointsBeforeSignal(
          store.subscribeToAll({ fromPosition: start, filter, checkpointInterval: 100 }),
          start,
          signal,
          2,
        );
      });

      it('reject a checkpoint interval below 1', () => {
        expect(() => store.subscribeToAll({ filter: { eventTypes: ['X'] }, checkpointInterval: 0 })).toThrow(
          RangeError,
        );
      });

      it('end the iteration on unsubscribe, also for a pending next()', async () => {
        const sub = store.subscribeToAll({
          fromPosition: await store.headPosition(),
          filter: { eventTypes: [uniqueType('Never')] },
        });
        const it = sub[Symbol.asyncIterator]();
        await nextOfKind(() => within(it.next()), 'caught-up');
        const pending = it.next();
        await sub.unsubscribe();
        expect((await within(pending, 3000)).done).toBe(true);
        expect((await within(it.next(), 3000)).done).toBe(true);
      });

      it('end a for-await loop on unsubscribe', async () => {
        const s = stream();
        const sub = store.subscribeToAll({
          fromPosition: await store.headPosition(),
          filter: { streamPrefixes: [s] },
        });
        const kinds: string[] = [];
        const loop = (async () => {
          for await (const m of sub) {
            kinds.push(m.kind);
            if (m.kind === 'caught-up') await store.append(s, [ev()], 'no_stream');
            if (m.kind === 'event') await sub.unsubscribe();
          }
        })();
        await within(loop);
        // Nothing after the unsubscribe; a busy shared log may interleave checkpoints before it.
        expect(kinds.at(-1)).toBe('event');
        expect(kinds.filter((k) => k !== 'checkpoint')).toEqual(['caught-up', 'event']);
      });
    });

    describe('multi-stream append', () => {
      it('one failing expectation writes nothing in any stream (or the adapter refuses)', async () => {
        const a = stream();
        const b = stream();
        await store.append(b, [ev()], 'no_stream');
        const attempt = store.appendMulti([
          { streamId: a, events: [ev()], expectedRevision: 'no_stream' },
          { streamId: b, events: [ev()], expectedRevision: 'no_stream' },
        ]);
        if (store.supportsMultiStreamAppend) await expectWrongRevision(attempt, b, 'no_stream', 0n);
        else await expect(attempt).rejects.toBeInstanceOf(UnsupportedOperationError);
        await expect(store.readStream(a)).rejects.toBeInstanceOf(StreamNotFoundError);
        expect(await store.readStream(b)).toHaveLength(1);
      });

      it('commits every stream with positions in order (or the adapter refuses)', async () => {
        const a = stream();
        const b = stream();
        await store.append(b, [ev()], 'no_stream');
        const attempt = store.appendMulti([
          { streamId: a, events: [ev('A1'), ev('A2')], expectedRevision: 'no_stream' },
          { streamId: b, events: [ev('B1')], expectedRevision: 0n },
        ]);
        if (!store.supportsMultiStreamAppend) {
          await expect(attempt).rejects.toBeInstanceOf(UnsupportedOperationError);
          return;
        }
        const result = await attempt;
        const inA = await store.readStream(a);
        const inB = await store.readStream(b);
        expect(inA.map((e) => e.type)).toEqual(['A1', 'A2']);
        expect(inB.map((e) => e.type)).toEqual(['Happened', 'B1']);
        expect(inB[1].position).toBeGreaterThan(inA[1].position);
        expect(result).toEqual({ nextExpectedRevision: 1n, position: inB[1].position });
      });
    });

    async function types(streamId: string): Promise<string[]> {
      return (await store.readStream(streamId)).map((e) => e.type);
    }

    /** Positions are sparse: a batch's first position is read, never computed from the last. */
    async function firstPositionIn(streamId: string): Promise<bigint> {
      return (await store.readStream(streamId, { maxCount: 1 }))[0].position;
    }

    async function expectCheckpointsBeforeSignal(
      sub: Subscription,
      start: bigint,
      signal: AppendResult,
      atLeast: number,
    ): Promise<void> {
      await withSubscription(sub, async (next) => {
        const seen = await takeUntil(next, (m) => m.kind === 'event', 100_000);
        const checkpoints = seen
          .filter((m): m is CheckpointMessage => m.kind === 'checkpoint')
          .map((m) => m.position);
        expect(checkpoints.length).toBeGreaterThanOrEqual(atLeast);
        checkpoints.forEach((p, i) => {
          expect(p).toBeGreaterThan(i === 0 ? start : checkpoints[i - 1]);
          expect(p).toBeLessThan(signal.position);
        });
        expect((seen.at(-1) as EventMessage).event.position).toBe(signal.position);
      });
    }
  });
}

function stream(prefix = 'contract'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Event types unique to one test, so type filters never see another run's events on a shared store. */
function uniqueType(name: string): string {
  return `${name}${randomUUID().replaceAll('-', '')}`;
}

function ev(type = 'Happened', data: JsonObject = {}, metadata?: JsonObject): EventData {
  return { id: randomUUID(), type, data, ...(metadata ? { metadata } : {}) };
}

function numbered(count: number): EventData[] {
  return Array.from({ length: count }, (_, n) => ev('N', { n }));
}

async function expectWrongRevision(
  attempt: Promise<unknown>,
  streamId: string,
  expected: ExpectedRevision,
  actual: bigint,
): Promise<void> {
  const err = await attempt.then(
    () => new Error('expected the append to fail with WrongExpectedRevisionError, it succeeded'),
    (e: unknown) => e,
  );
  expectWrongRevisionError(err, streamId, expected, actual);
}

function expectWrongRevisionError(
  err: unknown,
  streamId: string,
  expected: ExpectedRevision,
  actual: bigint,
): void {
  expect(err).toBeInstanceOf(WrongExpectedRevisionError);
  const e = err as WrongExpectedRevisionError;
  expect({ streamId: e.streamId, expected: e.expected, actual: e.actual }).toEqual({
    streamId,
    expected,
    actual,
  });
}

type Next = () => Promise<IteratorResult<SubscriptionMessage>>;

/** Runs `body` against a subscription and always unsubscribes, so a failing test leaks nothing. */
async function withSubscription(sub: Subscription, body: (next: Next) => Promise<void>): Promise<void> {
  const it = sub[Symbol.asyncIterator]();
  try {
    await body(() => within(it.next()));
  } finally {
    await sub.unsubscribe();
  }
}

/** Settles like `p`, or rejects after `ms`; the timer is always cleared so jest can exit. */
async function within<T>(p: Promise<T>, ms = MESSAGE_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function takeUntil(
  next: Next,
  stop: (m: SubscriptionMessage) => boolean,
  limit = 10_000,
): Promise<SubscriptionMessage[]> {
  const seen: SubscriptionMessage[] = [];
  for (let i = 0; i < limit; i++) {
    const r = await next();
    if (r.done) throw new Error(`subscription ended after ${seen.length} messages`);
    seen.push(r.value);
    if (stop(r.value)) return seen;
  }
  throw new Error(`no matching message within ${limit} messages`);
}

async function nextOfKind<K extends SubscriptionMessage['kind']>(
  next: Next,
  kind: K,
): Promise<Extract<SubscriptionMessage, { kind: K }>> {
  const seen = await takeUntil(next, (m) => m.kind === kind);
  return seen.at(-1) as Extract<SubscriptionMessage, { kind: K }>;
}

async function collectEvents(next: Next, count: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  await takeUntil(next, (m) => m.kind === 'event' && events.push(m.event) === count);
  return events;
}

function eventsIn(messages: readonly SubscriptionMessage[]): RecordedEvent[] {
  return messages.filter((m): m is EventMessage => m.kind === 'event').map((m) => m.event);
}
