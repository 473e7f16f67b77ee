import { createHash } from 'node:crypto';
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

export function reservationStream(key: ReservationKey): string {
  return streamOf(key, foldValue(key.value));
}

/**
 * The stream a value was reserved under before the identifier fold (NFC + toLowerCase), when
 * that differs from today's. Values claimed before the upgrade hold only that stream, so
 * claims and look-ups consult it too and releases release it: a value already taken stays
 * taken under both spellings, and nothing needs rewriting in an existing log.
 */
export function legacyReservationStream(key: ReservationKey): string | undefined {
  const legacy = legacyFold(key.value);
  return legacy === foldValue(key.value) ? undefined : streamOf(key, legacy);
}

function streamOf(key: ReservationKey, folded: string): string {
  // Lone surrogates never reach here from a client (refused); 'utf8' would map them all to U+FFFD.
  const hash = createHash('sha256').update(folded).digest('hex');
  return `unique-${key.kind}-${key.scopeKey}-${hash}`;
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
