// The store adapters' entry point (@app/event-store/adapters), for the composition root and for
// tests that run a real store: domain libs take the port from @app/event-store, and the
// architecture lint keeps them off this file.
export { SqliteEventStore } from './sqlite/sqlite-event-store';
export {
  openSqliteDatabase,
  type SqliteDb,
  type SqliteDatabaseOptions,
  type SqliteSynchronous,
} from './sqlite/sqlite-database';
export { WalCheckpointer, type WalCheckpointerOptions } from './sqlite/wal-checkpointer';
export { EventStoreDbEventStore, type EventStoreDbOptions } from './eventstoredb/eventstoredb-event-store';
export { PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store';
export { createEventStore, type EventStoreConfig } from './create-event-store';
export { PostgresLeaderLease } from './leases/postgres-leader-lease';
export { copyLog, type LogCopyResult, type LogImportTarget } from './log-copy';
