export * from './event-store.port';
export * from './errors';
export * from './event-filter';
export { SqliteEventStore } from './sqlite/sqlite-event-store';
export { openSqliteDatabase, type SqliteDb } from './sqlite/sqlite-database';
export { createEventStore, type EventStoreConfig } from './create-event-store';
