import { randomUUID } from 'node:crypto';
import { type EventStore, type InlineProjectionHost, type RecordedEvent } from '@app/event-store';
import { createEventStore, openSqliteDatabase, type SqliteDb } from '@app/event-store/adapters';
import type { Projection, ProjectionHandle, TableNamer } from './projection';
import type { ReadModelDb } from './read-model-db.port';
import { INLINE_MAX_EVENTS, ProjectionRunner, RebuildInProgress } from './projection-runner';
import { ReadYourWrites } from './read-your-writes';
import { waitFor } from '@app/testing';

interface Totals extends ProjectionHandle {
  totals(): Record<string, number>;
}

/** Sums `amount` per stream; `failOn` simulates a crash in the middle of a batch. */
function totalsProjection(version = 1, failOn?: { value: number | undefined }): Projection<Totals> {
  return {
    name: 'totals',
    version,
    tables: ['totals'],
    eventTypes: ['Added'],
    create(db: ReadModelDb, t: TableNamer) {
      db.exec(`CREATE TABLE IF NOT EXISTS ${t('totals')} (stream TEXT PRIMARY KEY, total INTEGER NOT NULL)`);
    },
    open(db: ReadModelDb, t: TableNamer) {
      const upsert = db.prepare(
        `INSERT INTO ${t('totals')} (stream, total) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET total = total + excluded.total`,
      );
      const all = db.prepare(`SELECT stream, total FROM ${t('totals')} ORDER BY stream`);
      return {
        apply(e: RecordedEvent) {
          const amount = e.data.amount as number;
          if (failOn && failOn.value === amount) throw new Error('crash in the middle of a batch');
          upsert.run(e.streamId, amount);
        },
        totals() {
          return Object.fromEntries(
            (all.all() as { stream: string; total: number }[]).map((r) => [r.stream, r.total]),
          );
        },
      };
    },
  };
}

async function appendMany(store: EventStore, n: number, offset = 0) {
  for (let i = 0; i < n; i++) {
    await store.append(
      `acc-${i % 7}`,
      [{ id: randomUUID(), type: 'Added', data: { amount: offset + i } }],
      'any',
    );
    if (i % 10 === 0) await store.append('noise', [{ id: randomUUID(), type: 'Ignored', data: {} }], 'any');
  }
}

/** A store seen only through the port (not an instance of any adapter class), with the given inline host. */
function throughPort(inner: EventStore, inline: InlineProjectionHost | undefined): EventStore {
  return {
    name: inner.name,
    supportsMultiStreamAppend: inner.supportsMultiStreamAppend,
    ...(inline ? { inlineProjections: inline } : {}),
    append: (streamId, events, expected) => inner.append(streamId, events, expected),
    appendMulti: (appends) => inner.appendMulti(appends),
    readStream: (streamId, options) => inner.readStream(streamId, options),
    readAll: (options) => inner.readAll(options),
    subscribeToAll: (options) => inner.subscribeToAll(options),
    headPosition: () => inner.headPosition(),
    close: () => inner.close(),
  };
}

describe('ProjectionRunner', () => {
  let db: SqliteDb;
  let store: EventStore;
  beforeEach(async () => {
    db = openSqliteDatabase({ filename: ':memory:' });
    store = await createEventStore({ kind: 'sqlite', db });
  });
  afterEach(async () => {
    await store.close();
    db.close();
  });

  it('applies events appended before and after start, and read-your-writes waits for them', async () => {
    await appendMany(store, 50);
    const runner = new ProjectionRunner(store, db, [totalsProjection()]);
    await runner.start();
    const ryw = new ReadYourWrites(runner);
    const r = await store.append(
      'acc-x',
      [{ id: randomUUID(), type: 'Added', data: { amount: 5 } }],
      'no_stream',
    );
    ryw.wrote(r.position);
    expect(await ryw.settle()).toBe(true);
    expect(runner.handle<Totals>('totals').totals()['acc-x']).toBe(5);
    await runner.stop();
  });

  it('a crash in the middle of a batch commits nothing of it; resuming gives the same read model as a rebuild', async () => {
    await appendMany(store, 300);
    const failOn = { value: 150 as number | undefined };
    const crashing = new ProjectionRunner(store, db, [totalsProjection(1, failOn)]);
    await crashing.start().catch(() => undefined);
    await crashing.stop();
    // The first build failed on the event carrying 150, so no checkpoint was kept.
    failOn.value = undefined;
    const resumed = new ProjectionRunner(store, db, [totalsProjection(1, failOn)]);
    await resumed.start();
    await appendMany(store, 40, 1000);
    expect(await resumed.waitFor(await store.headPosition(), 2000)).toBe(true);
    const incremental = resumed.handle<Totals>('totals').totals();
    await resumed.rebuild('totals');
    expect(resumed.handle<Totals>('totals').totals()).toEqual(incremental);
    const sum = Object.values(incremental).reduce((a, b) => a + b, 0);
    expect(sum).toBe((299 * 300) / 2 + 40 * 1000 + (39 * 40) / 2);
    await resumed.stop();
  });

  it('a live batch that fails is rolled back with its checkpoint and applied again after recovery', async () => {
    const failOn = { value: undefined as number | undefined };
    const runner = new ProjectionRunner(store, db, [totalsProjection(1, failOn)]);
    await runner.start();
    failOn.value = 7;
    await appendMany(store, 20);
    await waitFor(() => runner.error !== undefined, { what: 'the live batch to fail' });
    const stuck = runner.position;
    expect(runner.error).toBeInstanceOf(Error);
    failOn.value = undefined;
    expect(await runner.waitFor(await store.headPosition(), 3000)).toBe(true);
    expect(stuck).toBeLessThan(await store.headPosition());
    const sum = Object.values(runner.handle<Totals>('totals').totals()).reduce((a, b) => a + b, 0);
    expect(sum).toBe((19 * 20) / 2);
    await runner.stop();
  });

  it('resumes from its checkpoint after a restart without applying anything twice', async () => {
    await appendMany(store, 30);
    const first = new ProjectionRunner(store, db, [totalsProjection()]);
    await first.start();
    await first.waitFor(await store.headPosition(), 1000);
    await first.stop();
    await appendMany(store, 10, 100);
    const second = new ProjectionRunner(store, db, [totalsProjection()]);
    await second.start();
    await second.waitFor(await store.headPosition(), 1000);
    const sum = Object.values(second.handle<Totals>('totals').totals()).reduce((a, b) => a + b, 0);
    expect(sum).toBe((29 * 30) / 2 + 10 * 100 + (9 * 10) / 2);
    await second.stop();
  });

  it('a version bump rebuilds into a new generation and drops the old tables', async () => {
    await appendMany(store, 20);
    const v1 = new ProjectionRunner(store, db, [totalsProjection(1)]);
    await v1.start();
    await v1.stop();
    const progress: { projection: string; position: bigint; events: number; done: boolean }[] = [];
    const v2 = new ProjectionRunner(store, db, [totalsProjection(2)]);
    await v2.start(({ projection, position, events, done }) => progress.push({ projection, position, events, done }));
    expect(await v2.waitFor(await store.headPosition(), 2000)).toBe(true);
    // Heard of at once, and again when the live loop has projected the whole log for it.
    await waitFor(() => progress.some((p) => p.done));
    expect(progress[0]).toEqual({ projection: 'totals', position: -1n, events: 0, done: false });
    expect(progress[progress.length - 1]).toEqual({ projection: 'totals', position: await store.headPosition(), events: 22, done: true });
    const status = await v2.status();
    expect(status[0]).toMatchObject({ name: 'totals', version: 2, generation: 2, lag: '0' });
    expect(Object.values(v2.handle<Totals>('totals').totals()).reduce((a, b) => a + b, 0)).toBe(
      (19 * 20) / 2,
    );
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'totals__g%'")
      .all();
    expect(tables).toEqual([{ name: 'totals__g2' }]);
    await v2.stop();
  });

  it('a rebuild leaves only the new generation, and a start removes what an interrupted drop left behind', async () => {
    await appendMany(store, 30);
    const tables = () => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'totals__g%' ORDER BY name").all();
    const runner = new ProjectionRunner(store, db, [totalsProjection()]);
    await runner.start();
    expect(await runner.waitFor(await store.headPosition(), 2000)).toBe(true);
    await runner.rebuild('totals');
    expect(tables()).toEqual([{ name: 'totals__g2' }]);
    await runner.rebuild('totals');
    expect(tables()).toEqual([{ name: 'totals__g3' }]);
    await runner.stop();
    // A crash while the old generation was being emptied in slices: part of it is still there.
    db.exec('CREATE TABLE totals__g2 (stream TEXT PRIMARY KEY, total INTEGER NOT NULL); INSERT INTO totals__g2 VALUES (\'x\', 1)');
    const restarted = new ProjectionRunner(store, db, [totalsProjection()]);
    await restarted.start();
    expect(tables()).toEqual([{ name: 'totals__g3' }]);
    expect(Object.values(restarted.handle<Totals>('totals').totals()).reduce((a, b) => a + b, 0)).toBe((29 * 30) / 2);
    await restarted.stop();
  });

  describe('inline on the embedded store', () => {
    it('a caught-up projection has applied an append, with its checkpoint, when the append resolves', async () => {
      const runner = new ProjectionRunner(store, db, [totalsProjection()]);
      await runner.start();
      expect(await runner.waitFor(-1n, 100)).toBe(true);
      const r = await store.append(
        'acc-now',
        [{ id: randomUUID(), type: 'Added', data: { amount: 3 } }],
        'no_stream',
      );
      expect(runner.position).toBe(r.position);
      expect(runner.handle<Totals>('totals').totals()['acc-now']).toBe(3);
      const saved = db
        .prepare('SELECT position FROM projection_checkpoints WHERE name = ?')
        .get('totals') as { position: number };
      expect(BigInt(saved.position)).toBe(r.position);
      await runner.stop();
    });

    it('runs inline for any store whose inline host shares its database: it asks the port, not the adapter class', async () => {
      const runner = new ProjectionRunner(throughPort(store, store.inlineProjections), db, [totalsProjection()]);
      await runner.start();
      expect(await runner.waitFor(-1n, 100)).toBe(true);
      const r = await store.append('acc-port', [{ id: randomUUID(), type: 'Added', data: { amount: 4 } }], 'no_stream');
      expect(runner.position).toBe(r.position);
      expect(runner.handle<Totals>('totals').totals()['acc-port']).toBe(4);
      await runner.stop();
    });

    it('a store whose inline host does not share its database is followed through its subscription, with no commit hook', async () => {
      const host = store.inlineProjections as InlineProjectionHost;
      const setCommitHook = jest.fn();
      const elsewhere: InlineProjectionHost = {
        sharesDatabaseWith: () => false,
        setCommitHook,
        headSync: () => host.headSync(),
        readRangeSync: (after, upTo, filter) => host.readRangeSync(after, upTo, filter),
        waitForAppend: (ms) => host.waitForAppend(ms),
        wake: () => host.wake(),
      };
      const runner = new ProjectionRunner(throughPort(store, elsewhere), db, [totalsProjection()]);
      await runner.start();
      const r = await store.append('acc-sub', [{ id: randomUUID(), type: 'Added', data: { amount: 6 } }], 'no_stream');
      expect(await runner.waitFor(r.position, 2000)).toBe(true);
      expect(runner.handle<Totals>('totals').totals()['acc-sub']).toBe(6);
      await runner.stop();
      expect(setCommitHook).not.toHaveBeenCalled();
    });

    it('an append whose inline apply fails is still acknowledged and stored; the catch-up loop applies it later', async () => {
      const failOn = { value: undefined as number | undefined };
      const runner = new ProjectionRunner(store, db, [totalsProjection(1, failOn)]);
      await runner.start();
      failOn.value = 42;
      const r = await store.append(
        'acc-f',
        [{ id: randomUUID(), type: 'Added', data: { amount: 42 } }],
        'no_stream',
      );
      expect((await store.readStream('acc-f')).map((e) => e.data.amount)).toEqual([42]);
      expect(runner.position).toBeLessThan(r.position);
      failOn.value = undefined;
      expect(await runner.waitFor(r.position, 3000)).toBe(true);
      expect(runner.handle<Totals>('totals').totals()['acc-f']).toBe(42);
      await runner.stop();
    });

    it('an append larger than the inline limit commits without the inline apply; the catch-up loop applies it in slices, as a rebuild would', async () => {
      // Each apply costs ~0.05 ms of CPU, so the big append takes several 10 ms slices.
      const slow = totalsProjection();
      const open = slow.open.bind(slow);
      slow.open = (d, t) => {
        const h = open(d, t);
        return {
          ...h,
          apply(e: RecordedEvent) {
            const until = performance.now() + 0.05;
            while (performance.now() < until);
            h.apply(e);
          },
        };
      };
      const runner = new ProjectionRunner(store, db, [slow]);
      await runner.start();
      try {
        await appendMany(store, 20);
        const n = INLINE_MAX_EVENTS * 5;
        const appends = Array.from({ length: n }, (_, i) => ({
          streamId: `big-${i}`,
          events: [{ id: randomUUID(), type: 'Added', data: { amount: i } }],
          expectedRevision: 'no_stream' as const,
        }));
        // A small append of the same turn is grouped apart and keeps its inline apply.
        const [big, small] = await Promise.all([
          store.appendMulti(appends),
          store.append('acc-small', [{ id: randomUUID(), type: 'Added', data: { amount: 5 } }], 'no_stream'),
        ]);
        expect(small.position).toBeLessThan(big.position);
        expect(runner.handle<Totals>('totals').totals()['acc-small']).toBe(5);
        expect(runner.position).toBeLessThan(big.position);
        let turns = 0;
        let ticking = true;
        const tick = () => {
          turns++;
          if (ticking) setImmediate(tick);
        };
        setImmediate(tick);
        expect(await runner.waitFor(big.position, 10_000)).toBe(true);
        ticking = false;
        expect(turns).toBeGreaterThan(2);
        const live = runner.handle<Totals>('totals').totals();
        expect(Object.keys(live).filter((k) => k.startsWith('big-'))).toHaveLength(n);
        await runner.rebuild('totals');
        expect(runner.handle<Totals>('totals').totals()).toEqual(live);
      } finally {
        await runner.stop();
      }
    });

    it('a rebuild while appends keep arriving ends with the same rows as the live generation had', async () => {
      await appendMany(store, 200);
      const runner = new ProjectionRunner(store, db, [totalsProjection()]);
      await runner.start();
      expect(await runner.waitFor(await store.headPosition(), 2000)).toBe(true);
      const writes = appendMany(store, 200, 10_000);
      await runner.rebuild('totals');
      await writes;
      expect(runner.position).toBe(await store.headPosition());
      const sum = Object.values(runner.handle<Totals>('totals').totals()).reduce((a, b) => a + b, 0);
      expect(sum).toBe((199 * 200) / 2 + 200 * 10_000 + (199 * 200) / 2);
      await runner.stop();
    });

    it('a second rebuild requested while one runs is refused at once, and the first still completes', async () => {
      await appendMany(store, 300);
      const runner = new ProjectionRunner(store, db, [totalsProjection()]);
      await runner.start();
      expect(await runner.waitFor(await store.headPosition(), 2000)).toBe(true);
      const first = runner.rebuild('totals');
      await expect(runner.rebuild('all')).rejects.toBeInstanceOf(RebuildInProgress);
      const [done] = await first;
      expect(done).toMatchObject({ projection: 'totals', events: 300, done: true });
      await runner.stop();
    });
  });
});
