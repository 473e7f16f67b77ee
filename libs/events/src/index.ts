// SCIM events (RFC 9967) as Security Event Tokens delivered over SSF streams (RFC 8935 push,
// RFC 8936 poll), and asynchronous SCIM requests (RFC 9967 §2.5). See docs/architecture.md.
export * from './async-request.events';
export * from './async/async-request.decider';
export * from './async/async-request.handlers';
export * from './async/async-request-executor.port';
export * from './async/async-request-runner.service';
export * from './async/async-request-recovery.service';
export * from './async/async-requests.module';
export * from './sets/scim-event-uris';
export * from './sets/security-events.mapping';
export * from './sets/set-claims';
export * from './sets/scim-events.projection';
export * from './streams/stream.events';
export { streamDecider, type StreamState, type StreamSettings, type StreamCommand, eventsDelivered, checkReceiverUrl } from './streams/stream.decider';
export * from './streams/set-streams.service';
export * from './keys/set-signing-keys.service';
export * from './delivery/delivery.state';
export * from './delivery/set-delivery.service';
export * from './delivery/set-push.worker';
export * from './events.module';
