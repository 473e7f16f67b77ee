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

async function versionsIn(url: string): Promise<number[]> {
  const client = createClient(url, { connectTimeoutMs: 3000, queryTimeoutMs: 3000, maxConnections: 1, applicationName: 'scim-tests' });
  await client.connect();
  try {
    return (await client.query<{ version: number }>('SELECT version FROM scim_schema_migrations ORDER BY version')).rows.map((r) => r.version);
  } finally {
    await client.end();
  }
}
