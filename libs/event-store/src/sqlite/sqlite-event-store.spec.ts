import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore } from '../create-event-store';
import { StoreUnavailableError } from '../errors';
import type { EventData } from '../event-store.port';
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
