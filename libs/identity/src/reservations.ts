import { createHash, createHmac } from 'node:crypto';
import type { UniqueKind } from './errors';
import { foldForMatch, legacyFold } from './identifier-fold';

/**
 * Unique values (userName and NameID per scope, email and account username instance-wide,
 * SCIM group displayName per scope, group paths, verified domains) are claimed through
 * reservation streams: `unique-{kind}-{scopeKey}-{sha256(folded value)}`. A claim appends
 * with `no_stream` (or the revision after a release), so the store — never a projection —
 * decides which of two racing requests wins, the same way on SQLite and EventStoreDB.
 * The stream name carries a hash, not the value: no personal data in stream names.
 */
export type ReservationKind = Exclude<UniqueKind, 'account' | 'externalId'>;

export interface ReservationOwner {
  /** Stream that owns the value, e.g. `account-…` or `scimGroup-…`. */
  readonly stream: string;
  /** Entity id inside it (identity id, group id …). */
  readonly id: string;
}

export interface ReservationKey {
  readonly kind: ReservationKind;
  /** `instance` for instance-wide values, otherwise the scope id. */
  readonly scopeKey: string;
  readonly value: string;
}

export interface ReservedData {
  readonly kind: ReservationKind;
  readonly scopeKey: string;
  readonly owner: ReservationOwner;
}

export const RESERVATION_EVENT_TYPES = ['ValueReserved', 'ValueReleased'] as const;

/** Values compare as people read them: identifier-fold.ts. */
export function foldValue(value: string): string {
  return foldForMatch(value);
}

// A decision names the same key's streams several times (prefetch, claim, append): each name
// is a fold and a keyed hash. Remembered per key object, so nothing outlives the request's keys.
interface StreamNames {
  readonly hash: ValueHash;
  readonly stream: string;
  readonly legacy: string | undefined;
}
const streamNames = new WeakMap<ReservationKey, StreamNames>();

function namesOf(key: ReservationKey, hash: ValueHash): StreamNames {
  const known = streamNames.get(key);
  if (known?.hash === hash) return known;
  const folded = foldValue(key.value);
  const legacy = legacyFold(key.value);
  const names = { hash, stream: streamOf(key, folded, hash), legacy: legacy === folded ? undefined : streamOf(key, legacy, hash) };
  streamNames.set(key, names);
  return names;
}

export function reservationStream(key: ReservationKey, hash: ValueHash = sha256ValueHash): string {
  return namesOf(key, hash).stream;
}

/**
 * The stream a value was reserved under before the identifier fold (NFC + toLowerCase), when
 * that differs from today's. Values claimed before the upgrade hold only that stream, so
 * claims and look-ups consult it too and releases release it: a value already taken stays
 * taken under both spellings, and nothing needs rewriting in an existing log.
 */
export function legacyReservationStream(key: ReservationKey, hash: ValueHash = sha256ValueHash): string | undefined {
  return namesOf(key, hash).legacy;
}

function streamOf(key: ReservationKey, folded: string, hash: ValueHash): string {
  return `unique-${key.kind}-${key.scopeKey}-${hash(folded)}`;
}

/** How a folded value becomes the hash in a stream name (and in an erased person's history). */
export type ValueHash = (folded: string) => string;

// Lone surrogates never reach here from a client (refused); 'utf8' would map them all to U+FFFD.
/** Plain SHA-256: the names of every log written before keyed hashes, and the default. */
export const sha256ValueHash: ValueHash = (folded) => createHash('sha256').update(folded).digest('hex');

/**
 * HMAC-SHA256 under the instance's identifier key: a stream name, or an erased person's
 * identifier in the support history, then tells nothing to whoever lacks the key and tries
 * guesses. Every writer of one log must use the same key (the composition root binds it).
 */
export function keyedValueHash(key: Buffer): ValueHash {
  // Setting up an HMAC (OpenSSL's MAC fetch, the key's pads) costs more than hashing a short
  // value, and a decision hashes each of its values several times (prefetch, holder, claim, each
  // with its own key objects). Hashes are remembered until the event loop's next turn only: no
  // identifier stays in memory past the requests being handled, so nothing needs purging on erasure.
  let turn: Map<string, string> | undefined;
  return (folded) => {
    if (!turn || turn.size >= 4096) {
      const memo = new Map<string, string>();
      turn = memo;
      setImmediate(() => {
        if (turn === memo) turn = undefined;
      });
    }
    let hash = turn.get(folded);
    if (hash === undefined) {
      hash = createHmac('sha256', key).update(folded).digest('hex');
      turn.set(folded, hash);
    }
    return hash;
  };
}

/** The composition root's `ValueHash` (optional: plain SHA-256 without it). */
export const IDENTIFIER_HASH = Symbol('IDENTIFIER_HASH');

/** The hash of a value as reservations and erased identifiers keep it (folded first, as values compare). */
export function hashIdentifier(value: string, hash: ValueHash = sha256ValueHash): string {
  return hash(foldValue(value));
}

export interface ReservationState {
  /** -1n when the stream does not exist. */
  readonly revision: bigint;
  readonly holder?: ReservationOwner;
  readonly since?: string;
  /** The pre-fold stream of the same value (legacyReservationStream), when it differs. */
  readonly legacy?: { readonly stream: string; readonly state: ReservationState };
}

export function foldReservation(
  events: readonly { type: string; data: unknown; revision: bigint; metadata?: { occurredAt?: unknown } }[],
): ReservationState {
  let state: ReservationState = { revision: -1n };
  for (const e of events) {
    const data = e.data as ReservedData;
    const since = typeof e.metadata?.occurredAt === 'string' ? e.metadata.occurredAt : undefined;
    state =
      e.type === 'ValueReserved'
        ? { revision: e.revision, holder: data.owner, since }
        : { revision: e.revision, since };
  }
  return state;
}
