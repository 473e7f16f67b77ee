import { v7 } from 'uuid';

/**
 * A new id for anything that becomes a key: event ids, stream ids, SCIM resource ids.
 *
 * UUIDv7 (RFC 9562) starts with the creation time in milliseconds, so new keys land at the
 * right edge of every b-tree that holds them (`UNIQUE(event_id)`, `UNIQUE(stream_id, revision)`,
 * the read models' primary keys). A commit then dirties a few pages at the edge instead of one
 * random page per index and per row, which is most of what the embedded store writes (and
 * EventStoreDB's indexes like it too). The id reveals its creation time, which SCIM already
 * shows as `meta.created`.
 */
export function timeOrderedId(): string {
  return v7();
}
