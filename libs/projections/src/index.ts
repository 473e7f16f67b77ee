export * from './read-model-db.port';
export * from './projection';
export * from './projection-runner';
export * from './read-your-writes';
export * from './tracking-event-store';
export * from './cooperative';
