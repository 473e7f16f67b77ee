// The identity lib's light entry point (@app/identity/domain): its pure domain files only —
// no Nest, no store — for clients that must not load the handlers with the main entry point
// (the CLI and the offline verifier reach the identifier fold through @app/scim). The
// architecture lint checks that nothing here reaches Nest or the event store.
export * from './identifier-fold';
export * from './errors';
export * from './access-level';
export * from './scope';
export * from './events';
export * from './document';
export * from './event-family';
