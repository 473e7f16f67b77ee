import { randomUUID } from 'node:crypto';
import { eventStoreContract } from '../testing/event-store.contract';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '../testing/postgres-test-database';
import { createClient } from './postgres-client';
import { PostgresEventStore } from './postgres-event-store';

const unavailable = postgresUnavailableReason();

if (unavailable === undefined) {
  // A database per handle: the tests that open a second handle expect an empty log.
  eventStoreContract('PostgreSQL', async () => {
    const db: TestDatabase = await createTestDatabase();
    const store = new PostgresEventStore(db.url);
    await store.migrate();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await db.drop();
      },
    };
  });
} else {
  // Said out loud so that a run without a server never reads as a passing adapter.
  console.warn(`PostgreSQL adapter contract skipped: ${unavailable}`);
  describe('PostgreSQL adapter contract', () => {
    it.skip(`skipped: ${unavailable}`, () => undefined);
  });
}

if (unavailable === undefined) {
  describe('PostgreSQL event store migrations', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('run once when several instances start at once, and again find nothing to do', async () => {
      const stores = Array.from({ length: 5 }, () => new PostgresEventStore(db.url, { maxConnections: 2 }));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        const r = await stores[0].append('migrated-1', [{ id: randomUUID(), type: 'T', data: {} }], 'no_stream');
        const later = new PostgresEventStore(db.url);
        stores.push(later);
        await later.migrate();
        expect((await later.readStream('migrated-1')).map((e) => e.position)).toEqual([r.position]);
        const versions = await versionsIn(db.url);
        expect(versions).toEqual([...new Set(versions)]);
        expect(versions.length).toBeGreaterThan(0);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
}

if (unavailable === undefined) {
  describe('PostgreSQL group commit', () => {
    let db: TestDatabase;
    let store: PostgresEventStore;
    beforeAll(async () => {
      db = await createTestDatabase();
      store = new PostgresEventStore(db.url);
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await db?.drop();
    });

    it('callers sharing one transaction each get the answer they would get alone, in queue order', async () => {
      const ev = (tag: string) => ({ id: randomUUID(), type: 'T', data: { tag } });
      const stored = ev('stored');
      await store.append('g-idem', [stored], 'no_stream');
      // The first append takes a transaction alone; the rest queue behind it and share the next.
      const settle = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));
      const first = settle(store.append('g-warm', [ev('warm')], 'no_stream'));
      const a = settle(store.append('g-s1', [ev('a')], 'no_stream'));
      const b = settle(store.append('g-s1', [ev('b')], 'no_stream'));
      const c = settle(store.append('g-s1', [ev('c')], 0n));
      const d = settle(
        store.appendMulti([
          { streamId: 'g-s2', events: [ev('d1'), ev('d2')], expectedRevision: 'no_stream' },
          { streamId: 'g-s3', events: [ev('d3')], expectedRevision: 'no_stream' },
        ]),
      );
      const retried = settle(store.append('g-idem', [stored], 'any'));
      const wrong = settle(store.append('g-s5', [ev('f')], 5n));
      const r = await Promise.all([first, a, b, c, d, retried, wrong]);
      const ok = (x: (typeof r)[number]) => {
        if ('error' in x) throw x.error;
        return x.value;
      };
      expect(ok(r[1]).nextExpectedRevision).toBe(0n);
      expect('error' in r[2] && (r[2].error as Error).name).toBe('WrongExpectedRevisionError');
      expect(ok(r[3]).nextExpectedRevision).toBe(1n);
      expect(ok(r[4]).nextExpectedRevision).toBe(0n);
      expect(ok(r[1]).position).toBeLessThan(ok(r[3]).position);
      expect(ok(r[3]).position).toBeLessThan(ok(r[4]).position);
      expect(ok(r[5]).position).toBe((await store.readStream('g-idem'))[0].position);
      expect('error' in r[6] && (r[6].error as Error).name).toBe('WrongExpectedRevisionError');
      expect((await store.readStream('g-s1')).map((e) => e.data.tag)).toEqual(['a', 'c']);
      expect((await store.readStream('g-s2')).map((e) => [e.revision, e.data.tag])).toEqual([
        [0n, 'd1'],
        [1n, 'd2'],
      ]);
      const s3 = await store.readStream('g-s3');
      expect(s3.map((e) => e.data.tag)).toEqual(['d3']);
      expect(s3[0].position).toBe(ok(r[4]).position);
      await expect(store.readStream('g-s5')).rejects.toThrow();
    });
  });
}

async function versionsIn(url: string): Promise<number[]> {
  const client = createClient(url, { connectTimeoutMs: 3000, queryTimeoutMs: 3000, maxConnections: 1, applicationName: 'scim-tests' });
  await client.connect();
  try {
    return (await client.query<{ version: number }>('SELECT version FROM scim_schema_migrations ORDER BY version')).rows.map((r) => r.version);
  } finally {
    await client.end();
  }
}
