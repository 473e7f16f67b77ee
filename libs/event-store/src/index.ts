export * from './event-store.port';
export * from './errors';
export * from './event-filter';
export { SqliteEventStore } from './sqlite/sqlite-event-store';
