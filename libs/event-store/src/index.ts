export * from './event-store.port';
export * from './errors';
export * from './event-filter';
export { timeOrderedId } from './time-ordered-id';
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
export { type LeaderLease, LEADER_LEASE, InProcessLeaderLease } from './leases/leader-lease';
export { PostgresLeaderLease } from './leases/postgres-leader-lease';
export { copyLog, type LogCopyResult, type LogImportTarget } from './log-copy';
