import type { ExpectedRevision } from './event-store.port';

/**
 * The port's expected-revision rule, once for every adapter that checks it itself (EventStoreDB
 * checks it on the server): `current` is the stream's last revision, -1 when it has no events.
 */
export function revisionMatches(expected: ExpectedRevision, current: bigint): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === -1n;
  if (expected === 'stream_exists') return current >= 0n;
  return current === expected;
}
