// SCIM events (RFC 9967) as Security Event Tokens delivered over SSF streams (RFC 8935 push,
// RFC 8936 poll), and asynchronous SCIM requests (RFC 9967 §2.5). See docs/architecture.md.
export {};
export * from './async-request.events';
export * from './async/async-request.decider';
export * from './async/async-request.handlers';
export * from './async/async-request-executor.port';
export * from './async/async-request-runner.service';
export * from './async/async-request-recovery.service';
export * from './async/async-requests.module';
