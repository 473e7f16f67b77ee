import type { JsonObject } from '@app/event-store';
import type { FeedEntry } from './security-events.mapping';
import { FULL_OF_NOTICE } from './scim-event-uris';

/** What a stream adds to a feed entry to make it its own SET. */
export interface StreamAddressing {
  readonly streamId: string;
  readonly issuer: string;
  readonly audience: string | string[];
  /** `events_delivered`: the URIs this stream carries (a `:full` URI replaces its `:notice` twin). */
  readonly events: readonly string[];
}

/**
 * A SET's `jti`: the stream and the log position (and index within the event), so a
 * redelivery, a restart or another instance names the same SET the same way.
 */
export function jtiOf(streamId: string, position: bigint, index: number): string {
  return `${streamId}.${position.toString()}.${index}`;
}

/** Position and index back from a `jti` of this stream, or undefined for anything else. */
export function parseJti(streamId: string, jti: string): { position: bigint; index: number } | undefined {
  const prefix = `${streamId}.`;
  if (!jti.startsWith(prefix)) return undefined;
  const m = /^(\d+)\.(\d+)$/.exec(jti.slice(prefix.length));
  return m ? { position: BigInt(m[1]), index: Number(m[2]) } : undefined;
}

/**
 * The RFC 8417 claim set of one entry for one stream, or undefined when the stream asked for
 * none of its events. `iat` is the time of the event, so the claims (and, with Ed25519, the
 * token itself) are the same every time the log is replayed.
 */
export function setClaimsFor(entry: FeedEntry, stream: StreamAddressing): JsonObject | undefined {
  const wanted = new Set(stream.events);
  const events: JsonObject = {};
  for (const [uri, payload] of Object.entries(entry.notice)) {
    const full = FULL_OF_NOTICE[uri];
    if (full && wanted.has(full) && entry.full[full]) events[full] = entry.full[full];
    else if (wanted.has(uri)) events[uri] = payload;
  }
  if (Object.keys(events).length === 0) return undefined;
  return {
    iss: stream.issuer,
    iat: entry.toe,
    jti: jtiOf(stream.streamId, entry.position, entry.index),
    aud: stream.audience,
    txn: entry.txn,
    toe: entry.toe,
    ...(entry.subId ? { sub_id: entry.subId } : {}),
    events,
  };
}
