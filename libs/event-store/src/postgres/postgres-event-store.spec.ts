import { eventStoreContract } from '../testing/event-store.contract';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '../testing/postgres-test-database';
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
