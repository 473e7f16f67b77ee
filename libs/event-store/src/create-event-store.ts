import type { EventStore } from './event-store.port';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
import { PostgresEventStore } from './postgres/postgres-event-store';
import type { SqliteDb } from './sqlite/sqlite-database';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

export type EventStoreConfig =
  | { kind: 'sqlite'; db: SqliteDb }
  | { kind: 'eventstoredb'; connectionString: string }
  | { kind: 'postgres'; connectionString: string };

/**
 * The adapter the configuration names. The SQLite store shares the caller's database (read
 * models live beside the log), so closing the store leaves the database open for its owner.
 */
export async function createEventStore(config: EventStoreConfig): Promise<EventStore> {
  if (config.kind === 'sqlite') return new SqliteEventStore(config.db, { closeDatabase: false });
  if (config.kind === 'postgres') {
    const store = new PostgresEventStore(config.connectionString);
    // Migrate at start when the database answers; when it does not, the first call that
    // reaches it migrates (the server serves 503s until then and recovers by itself).
    await store.migrate().catch(() => undefined);
    return store;
  }
  return new EventStoreDbEventStore(config.connectionString);
}
