// The event store's port (@app/event-store): what domain libs, projections and handlers may use.
// The adapters are behind @app/event-store/adapters, for the composition root and tests.
export * from './event-store.port';
export * from './errors';
export * from './event-filter';
export { timeOrderedId } from './time-ordered-id';
export { type LeaderLease, LEADER_LEASE, InProcessLeaderLease } from './leases/leader-lease';
