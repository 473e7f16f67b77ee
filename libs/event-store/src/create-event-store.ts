import type { EventStore } from './event-store.port';
import type { SqliteDb } from './sqlite/sqlite-database';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

export type EventStoreConfig = { kind: 'sqlite'; db: SqliteDb } | { kind: 'eventstoredb'; connectionString: string };

/** The adapter the configuration names. The EventStoreDB client is loaded only when used. */
export async function createEventStore(config: EventStoreConfig): Promise<EventStore> {
  if (config.kind === 'sqlite') return new SqliteEventStore(config.db, { closeDatabase: false });
  const { EventStoreDbEventStore } = await import('./eventstoredb/eventstoredb-event-store');
  return new EventStoreDbEventStore(config.connectionString);
}
