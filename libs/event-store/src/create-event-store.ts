import type { EventStore } from './event-store.port';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
import type { SqliteDb } from './sqlite/sqlite-database';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

export type EventStoreConfig =
  { kind: 'sqlite'; db: SqliteDb } | { kind: 'eventstoredb'; connectionString: string };

/**
 * The adapter the configuration names. The SQLite store shares the caller's database (read
 * models live beside the log), so closing the store leaves the database open for its owner.
 */
export async function createEventStore(config: EventStoreConfig): Promise<EventStore> {
  if (config.kind === 'sqlite') return new SqliteEventStore(config.db, { closeDatabase: false });
  return new EventStoreDbEventStore(config.connectionString);
}
