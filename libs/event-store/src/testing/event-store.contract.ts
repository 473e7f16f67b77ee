import { randomUUID } from 'node:crypto';
import { StreamNotFoundError, UnsupportedOperationError, WrongExpectedRevisionError } from '../errors';
import type { EventData, EventStore, RecordedEvent, SubscriptionMessage } from '../event-store.port';

/**
 * The event store's behaviour, written once. Every adapter's spec calls it, so the embedded
 * store and EventStoreDB are interchangeable. Stream names are unique per test, so the suite
 * also runs against a shared EventStoreDB node that already holds data.
 */
export function eventStoreContract(name: string, open: () => Promise<{ store: EventStore; cleanup?: () => Promise<void> }>): void {
  describe(`event store contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, cleanup } = await open());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const stream = (prefix = 'contract') => `${prefix}-${randomUUID()}`;
    const ev = (type = 'Happened', data: Record<string, unknown> = {}, metadata?: Record<string, unknown>): EventData => ({
      id: randomUUID(),
      type,
      data: data as EventData['data'],
      ...(metadata ? { metadata: metadata as EventData['metadata'] } : {}),
    });
    const expectWrong = async (p: Promise<unknown>, streamId: string, actual: bigint) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WrongExpectedRevisionError);
      expect((err as WrongExpectedRevisionError).streamId).toBe(streamId);
      expect((err as WrongExpectedRevisionError).actual).toBe(actual);
    };
    async function take(it: AsyncIterator<SubscriptionMessage>, predicate: (m: SubscriptionMessage) => boolean, limit = 100_000) {
      const seen: SubscriptionMessage[] = [];
      for (let i = 0; i < limit; i++) {
        const r = await it.next();
        if (r.done) break;
        seen.push(r.value);
        if (predicate(r.value)) return seen;
      }
      throw new Error('subscription ended before the expected message');
    }

    describe('expected revisions', () => {
      it('no_stream succeeds on a new stream and the first event has revision 0', async () => {
        const s = stream();
        const r = await store.append(s, [ev()], 'no_stream');
        expect(r.nextExpectedRevision).toBe(0n);
        const [e] = await store.readStream(s);
        expect(e.revision).toBe(0n);
      });

      it('no_stream fails on an existing stream with the actual revision', async () => {
        const s = stream();
        await store.append(s, [ev(), ev()], 'no_stream');
        await expectWrong(store.append(s, [ev()], 'no_stream'), s, 1n);
      });

      it('stream_exists fails on a new stream with actual -1', async () => {
        const s = stream();
        await expectWrong(store.append(s, [ev()], 'stream_exists'), s, -1n);
      });

      it('stream_exists succeeds on an existing stream', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        expect((await store.append(s, [ev()], 'stream_exists')).nextExpectedRevision).toBe(1n);
      });

      it('an exact revision succeeds when it is the current one', async () => {
        const s = stream();
        await store.append(s, [ev(), ev(), ev()], 'no_stream');
        expect((await store.append(s, [ev()], 2n)).nextExpectedRevision).toBe(3n);
      });

      it('a stale exact revision fails and writes nothing', async () => {
        const s = stream();
        await store.append(s, [ev(), ev()], 'no_stream');
        await expectWrong(store.append(s, [ev('Late')], 0n), s, 1n);
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['Happened', 'Happened']);
      });

      it('an exact revision on a stream that does not exist fails with actual -1', async () => {
        const s = stream();
        await expectWrong(store.append(s, [ev()], 0n), s, -1n);
      });

      it('any succeeds on new and existing streams', async () => {
        const s = stream();
        expect((await store.append(s, [ev()], 'any')).nextExpectedRevision).toBe(0n);
        expect((await store.append(s, [ev(), ev()], 'any')).nextExpectedRevision).toBe(2n);
      });

      it('of concurrent appends expecting the same revision exactly one wins', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.append(s, [ev('Racer')], 0n)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results.filter((x) => x.status === 'rejected')) {
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        expect(await store.readStream(s)).toHaveLength(2);
      });
    });

    describe('idempotency', () => {
      it('re-appending the same events at the same expected revision succeeds without duplicating', async () => {
        const s = stream();
        const batch = [ev(), ev()];
        const first = await store.append(s, batch, 'no_stream');
        const again = await store.append(s, batch, 'no_stream');
        expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('re-appending the same events with any succeeds without duplicating', async () => {
        const s = stream();
        await store.append(s, [ev()], 'any');
        const batch = [ev(), ev()];
        await store.append(s, batch, 'any');
        const again = await store.append(s, batch, 'any');
        expect(again.nextExpectedRevision).toBe(2n);
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('re-appending at an exact revision succeeds without duplicating', async () => {
        const s = stream();
        await store.append(s, [ev()], 'no_stream');
        const batch = [ev()];
        await store.append(s, batch, 0n);
        expect((await store.append(s, batch, 0n)).nextExpectedRevision).toBe(1n);
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('a batch that partially overlaps stored events is a conflict', async () => {
        const s = stream();
        const a = ev();
        const b = ev();
        await store.append(s, [a, b], 'no_stream');
        await expect(store.append(s, [a, ev()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(s)).toHaveLength(2);
      });
    });

    describe('reading streams', () => {
      it('reads forwards from a revision, inclusive, with maxCount', async () => {
        const s = stream();
        await store.append(s, [0, 1, 2, 3, 4].map((n) => ev('N', { n })), 'no_stream');
        const read = await store.readStream(s, { fromRevision: 2n, maxCount: 2 });
        expect(read.map((e) => [e.revision, e.data.n])).toEqual([
          [2n, 2],
          [3n, 3],
        ]);
      });

      it('reads backwards from the end and from a revision', async () => {
        const s = stream();
        await store.append(s, [0, 1, 2].map((n) => ev('N', { n })), 'no_stream');
        expect((await store.readStream(s, { direction: 'backwards' })).map((e) => e.data.n)).toEqual([2, 1, 0]);
        expect((await store.readStream(s, { direction: 'backwards', fromRevision: 1n, maxCount: 1 })).map((e) => e.data.n)).toEqual([1]);
      });

      it('reading a stream that does not exist throws StreamNotFoundError', async () => {
        await expect(store.readStream(stream())).rejects.toBeInstanceOf(StreamNotFoundError);
      });

      it('round-trips data, unicode and metadata including correlation and causation ids', async () => {
        const s = stream();
        const meta = { $correlationId: randomUUID(), $causationId: randomUUID(), actor: { kind: 'scim_token', id: 't1' }, n: 1 };
        const data = { name: 'Zoë Ångström 👩‍💻', nested: { list: [1, 'two', null, true] }, empty: '' };
        await store.append(s, [ev('Rich', data, meta)], 'no_stream');
        const [e] = await store.readStream(s);
        expect(e.data).toEqual(data);
        expect(e.metadata).toMatchObject(meta);
        expect(e.streamId).toBe(s);
        expect(e.type).toBe('Rich');
      });

      it('assigns recordedAt itself, close to now', async () => {
        const s = stream();
        const before = Date.now();
        await store.append(s, [ev('Timed', {}, { recordedAt: '1999-01-01T00:00:00Z' })], 'no_stream');
        const [e] = await store.readStream(s);
        expect(e.recordedAt).toBeInstanceOf(Date);
        expect(e.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5000);
        expect(e.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 5000);
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
        const [e1] = await store.readStream(a);
        expect(e1.position).toBe(r1.position);
      });

      it('headPosition is the last written position', async () => {
        const r = await store.append(stream(), [ev()], 'no_stream');
        expect(await store.headPosition()).toBeGreaterThanOrEqual(r.position);
      });

      it('readAll from a position is inclusive and honours maxCount', async () => {
        const s = stream();
        const r = await store.append(s, [ev('A'), ev('B'), ev('C')], 'no_stream');
        const [first] = await store.readStream(s);
        const read = await store.readAll({ fromPosition: first.position, maxCount: 3 });
        expect(read[0].id).toBe(first.id);
        expect(read.map((e) => e.type)).toEqual(['A', 'B', 'C']);
        expect(read[2].position).toBe(r.position);
      });

      it('readAll backwards returns the newest first', async () => {
        const s = stream();
        await store.append(s, [ev('Old'), ev('New')], 'no_stream');
        const [newest] = await store.readAll({ direction: 'backwards', maxCount: 1 });
        expect(newest.type).toBe('New');
        expect(newest.streamId).toBe(s);
      });

      it('readAll filters by stream prefix and by event type', async () => {
        const prefix = `pfx${randomUUID().slice(0, 8)}`;
        const start = (await store.headPosition()) + 1n;
        await store.append(`${prefix}-1`, [ev('Kept')], 'no_stream');
        await store.append(stream(), [ev('Kept')], 'no_stream');
        await store.append(`${prefix}-2`, [ev('Other')], 'no_stream');
        const byPrefix = await store.readAll({ fromPosition: start, filter: { streamPrefixes: [prefix] } });
        expect(byPrefix.map((e) => e.streamId)).toEqual([`${prefix}-1`, `${prefix}-2`]);
        const byType = await store.readAll({ fromPosition: start, filter: { streamPrefixes: [prefix], eventTypes: ['Other'] } });
        expect(byType.map((e) => e.type)).toEqual(['Other']);
      });
    });

    describe('subscriptions', () => {
      it('deliver events strictly after the given position, then caught-up, then live events', async () => {
        const s = stream();
        const r = await store.append(s, [ev('Before')], 'no_stream');
        const sub = store.subscribeToAll({ fromPosition: r.position, filter: { streamPrefixes: [s] } });
        const it = sub[Symbol.asyncIterator]();
        const live = store.append(s, [ev('After')], 0n);
        const seen = await take(it, (m) => m.kind === 'event');
        const events = seen.filter((m): m is Extract<SubscriptionMessage, { kind: 'event' }> => m.kind === 'event');
        expect(events.map((m) => m.event.type)).toEqual(['After']);
        await live;
        await sub.unsubscribe();
      });

      it('from the start delivers the first matching event of the log', async () => {
        const s = stream('fromstart');
        await store.append(s, [ev('One')], 'no_stream');
        const sub = store.subscribeToAll({ filter: { streamPrefixes: [s] } });
        const seen = await take(sub[Symbol.asyncIterator](), (m) => m.kind === 'event');
        expect((seen.at(-1) as Extract<SubscriptionMessage, { kind: 'event' }>).event.streamId).toBe(s);
        await sub.unsubscribe();
      });

      it('report caught-up once the existing log has been read', async () => {
        const sub = store.subscribeToAll({ fromPosition: await store.headPosition(), filter: { eventTypes: ['NeverWritten'] } });
        const seen = await take(sub[Symbol.asyncIterator](), (m) => m.kind === 'caught-up');
        expect(seen.at(-1)?.kind).toBe('caught-up');
        await sub.unsubscribe();
      });

      it('with a filter, send checkpoints while filtered-out events pass', async () => {
        const s = stream();
        const start = await store.headPosition();
        for (let i = 0; i < 25; i++) await store.append(s, Array.from({ length: 100 }, () => ev('Noise')), 'any');
        const target = await store.append(s, [ev('Signal')], 'any');
        const sub = store.subscribeToAll({ fromPosition: start, filter: { streamPrefixes: [s], eventTypes: ['Signal'] }, checkpointInterval: 100 });
        const seen = await take(sub[Symbol.asyncIterator](), (m) => m.kind === 'event');
        const checkpoints = seen.filter((m): m is Extract<SubscriptionMessage, { kind: 'checkpoint' }> => m.kind === 'checkpoint');
        expect(checkpoints.length).toBeGreaterThan(0);
        for (let i = 1; i < checkpoints.length; i++) expect(checkpoints[i].position).toBeGreaterThan(checkpoints[i - 1].position);
        expect(checkpoints.every((c) => c.position < target.position)).toBe(true);
        const last = seen.at(-1) as Extract<SubscriptionMessage, { kind: 'event' }>;
        expect(last.event.type).toBe('Signal');
        await sub.unsubscribe();
      });

      it('end their iteration on unsubscribe', async () => {
        const sub = store.subscribeToAll({ fromPosition: await store.headPosition(), filter: { eventTypes: ['NeverWritten'] } });
        const it = sub[Symbol.asyncIterator]();
        await take(it, (m) => m.kind === 'caught-up');
        const pending = it.next();
        await sub.unsubscribe();
        const r = await Promise.race([pending, new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 3000))]);
        expect(r).not.toBe('timeout');
        expect((r as IteratorResult<SubscriptionMessage>).done).toBe(true);
      });

      it('deliver every event of a stream once and in order', async () => {
        const s = stream();
        const start = await store.headPosition();
        for (let i = 0; i < 30; i++) await store.append(s, [ev('Seq', { i })], 'any');
        const sub = store.subscribeToAll({ fromPosition: start, filter: { streamPrefixes: [s] } });
        const it = sub[Symbol.asyncIterator]();
        const got: RecordedEvent[] = [];
        await take(it, (m) => {
          if (m.kind === 'event') got.push(m.event);
          return got.length === 30;
        });
        expect(got.map((e) => e.data.i)).toEqual(Array.from({ length: 30 }, (_, i) => i));
        await sub.unsubscribe();
      });
    });

    describe('multi-stream append', () => {
      it('commits all streams or none', async () => {
        const a = stream();
        const b = stream();
        await store.append(b, [ev()], 'no_stream');
        if (!store.supportsMultiStreamAppend) {
          await expect(store.appendMulti([{ streamId: a, events: [ev()], expectedRevision: 'no_stream' }])).rejects.toBeInstanceOf(
            UnsupportedOperationError,
          );
          return;
        }
        await expect(
          store.appendMulti([
            { streamId: a, events: [ev()], expectedRevision: 'no_stream' },
            { streamId: b, events: [ev()], expectedRevision: 'no_stream' },
          ]),
        ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        await expect(store.readStream(a)).rejects.toBeInstanceOf(StreamNotFoundError);
        const ok = await store.appendMulti([
          { streamId: a, events: [ev()], expectedRevision: 'no_stream' },
          { streamId: b, events: [ev()], expectedRevision: 0n },
        ]);
        expect(ok.position).toBeGreaterThan(0n);
        expect(await store.readStream(a)).toHaveLength(1);
        expect(await store.readStream(b)).toHaveLength(2);
      });
    });
  });
}
