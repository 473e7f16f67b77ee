// SCIM events (RFC 9967) as Security Event Tokens delivered over SSF streams (RFC 8935 push,
// RFC 8936 poll), and asynchronous SCIM requests (RFC 9967 §2.5). See docs/architecture.md.
export {};
