import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore } from '../create-event-store';
import { StoreUnavailableError, StreamNotFoundError, WrongExpectedRevisionError } from '../errors';
import type { EventData, StreamAppend } from '../event-store.port';
import { eventStoreContract } from '../testing/event-store.contract';
import { openSqliteDatabase } from './sqlite-database';
import { SqliteEventStore } from './sqlite-event-store';

eventStoreContract('SQLite (:memory:)', async () => {
  const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
  return { store, cleanup: () => store.close() };
});

// Production runs on a file in WAL mode, which :memory: does not exercise.
eventStoreContract('SQLite (file, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'event-store-contract-'));
  const store = new SqliteEventStore(openSqliteDatabase({ filename: join(dir, 'events.db') }));
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// Every append of more than one event written in slices of 16 inserts: the same behaviour.
eventStoreContract('SQLite (file, WAL, appends sliced)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'event-store-contract-'));
  const store = new SqliteEventStore(openSqliteDatabase({ filename: join(dir, 'events.db') }), { sliceAppendsOver: 1, sliceMs: 0 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const ev = (type: string, data: EventData['data'] = {}): EventData => ({ id: randomUUID(), type, data });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** A group write's shape: two events on each of `members` streams. */
const bigWrite = (members: number): StreamAppend[] =>
  Array.from({ length: members }, (_, i) => ({ streamId: `member-${i}`, expectedRevision: 'no_stream' as const, events: [ev('Added', { i }), ev('Granted', { i })] }));

describe('SQLite event store', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'event-store-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps events, revisions and positions across a reopen of its file', async () => {
    const file = join(dir, 'reopen.db');
    const first = new SqliteEventStore(openSqliteDatabase({ filename: file }));
    await first.append('user-1', [ev('Created', { n: 1 }), ev('Renamed', { n: 2 })], 'no_stream');
    const last = await first.append('group-1', [ev('Created', { n: 3 })], 'no_stream');
    const before = await first.readAll();
    await first.close();

    const second = new SqliteEventStore(openSqliteDatabase({ filename: file }));
    try {
      expect(await second.readAll()).toEqual(before);
      expect(await second.headPosition()).toBe(last.position);
      await expect(second.append('user-1', [ev('Late')], 0n)).rejects.toMatchObject({ actual: 1n });
      const next = await second.append('user-1', [ev('Disabled')], 1n);
      expect(next.nextExpectedRevision).toBe(2n);
      expect(next.position).toBeGreaterThan(last.position);
      // An idempotent retry after the restart still finds the original events.
      const retried = before[2];
      expect(
        await second.append(
          'group-1',
          [{ id: retried.id, type: retried.type, data: retried.data }],
          'no_stream',
        ),
      ).toEqual(last);
    } finally {
      await second.close();
    }
  });

  describe('an append too big for one transaction', () => {
    // Slices of 16 inserts, so that 600 events take dozens of slices.
    const open = (file: string) => {
      const db = openSqliteDatabase({ filename: join(dir, file) });
      return { db, store: new SqliteEventStore(db, { sliceAppendsOver: 10, sliceMs: 0 }), stored: () => (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n };
    };

    it('commits in slices, shows readers all of it at once, and before the appends queued behind it', async () => {
      const { store, stored } = open('sliced.db');
      const first = await store.append('other', [ev('Before')], 'no_stream');
      let done = false;
      const big = store.appendMulti(bigWrite(300)).finally(() => (done = true));
      let behind: Promise<unknown> | undefined;
      let turns = 0;
      while (!done) {
        await turn();
        if (done) break;
        turns++;
        // Slices are in the file, yet no reader sees any of them.
        expect(await store.headPosition()).toBe(first.position);
        expect(await store.readAll()).toHaveLength(1);
        expect(await store.readAll({ direction: 'backwards', maxCount: 1 })).toMatchObject([{ type: 'Before' }]);
        expect(store.readRangeSync(first.position, first.position + 1000n, undefined)).toEqual([]);
        await expect(store.readStream('member-0')).rejects.toBeInstanceOf(StreamNotFoundError);
        // An append sent while it runs waits for it.
        if (stored() > 100 && !behind) behind = store.append('other', [ev('Behind')], 0n);
      }
      expect(turns).toBeGreaterThan(10);
      expect(behind).toBeDefined();
      const result = await big;
      await behind;
      const log = await store.readAll();
      expect(log).toHaveLength(602);
      expect(log.map((e) => e.type)).toEqual(['Before', ...Array.from({ length: 300 }, () => ['Added', 'Granted']).flat(), 'Behind']);
      expect(log.map((e) => e.streamId).slice(1, 5)).toEqual(['member-0', 'member-0', 'member-1', 'member-1']);
      expect(result).toEqual({ nextExpectedRevision: 1n, position: log[600].position });
      expect(log[601].position).toBeGreaterThan(log[600].position);
      expect(await store.readStream('member-299')).toHaveLength(2);
      await store.close();
    });

    it('leaves nothing of itself when the process dies between slices', async () => {
      const { db, store, stored } = open('crash.db');
      const kept = await store.append('kept', [ev('Kept')], 'no_stream');
      const big = store.appendMulti(bigWrite(300)).then(
        () => 'acknowledged',
        () => 'failed',
      );
      while (stored() < 200) await turn();
      // The connection goes away between two slices, as it does when the process is killed.
      db.close();
      expect(await big).toBe('failed');

      const { db: reopened, store: again } = open('crash.db');
      expect(await again.readAll()).toEqual([expect.objectContaining({ id: expect.any(String), type: 'Kept', position: kept.position })]);
      expect(reopened.prepare('SELECT COUNT(*) AS n FROM sliced_append').get()).toEqual({ n: 0 });
      // And the retry of the same write succeeds whole.
      await again.appendMulti(bigWrite(300));
      expect(await again.readAll()).toHaveLength(601);
      await again.close();
    });

    it('undoes its written slices when a later event cannot be stored, and answers a conflict', async () => {
      const { store, stored } = open('conflict.db');
      const taken = ev('Taken');
      await store.append('other', [taken], 'no_stream');
      const write = bigWrite(300);
      // A partial retry: the last stream's second event id is already in the log.
      write[299] = { ...write[299], events: [write[299].events[0], { ...taken }] };
      await expect(store.appendMulti(write)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(stored()).toBe(1);
      expect(await store.readAll()).toHaveLength(1);
      const next = await store.append('other', [ev('Next')], 0n);
      expect(next.position).toBe(2n);
      await store.close();
    });
  });

  it('starts with an empty log at head -1', async () => {
    const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
    expect(await store.headPosition()).toBe(-1n);
    expect(await store.readAll()).toEqual([]);
    expect(await store.readAll({ direction: 'backwards' })).toEqual([]);
    await store.close();
  });

  it('reads nothing, rather than StreamNotFoundError, with maxCount 0 on an existing stream', async () => {
    const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
    await store.append('s', [ev('A')], 'no_stream');
    expect(await store.readStream('s', { maxCount: 0 })).toEqual([]);
    await store.close();
  });

  it('answers StoreUnavailableError once closed, also to appends queued before the close', async () => {
    const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
    const queued = store.append('s', [ev('A')], 'no_stream');
    await store.close();
    await expect(queued).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.append('s', [ev('B')], 'any')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.readAll()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('createEventStore shares the given database without closing it', async () => {
    const db = openSqliteDatabase({ filename: ':memory:' });
    const store = await createEventStore({ kind: 'sqlite', db });
    expect(store.name).toBe('sqlite');
    await store.append('s', [ev('A')], 'no_stream');
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 1 });
    db.close();
  });

  it('offers inline projections to read models in its own database only', async () => {
    const db = openSqliteDatabase({ filename: ':memory:' });
    const other = openSqliteDatabase({ filename: ':memory:' });
    const store = await createEventStore({ kind: 'sqlite', db });
    expect(store.inlineProjections?.sharesDatabaseWith(db)).toBe(true);
    expect(store.inlineProjections?.sharesDatabaseWith(other)).toBe(false);
    await store.close();
    db.close();
    other.close();
  });
});
