import {
  type AppendResult,
  type EventStore,
  EventStoreError,
  type ExpectedRevision,
  type JsonObject,
  type RecordedEvent,
  type StreamAppend,
  StoreUnavailableError,
  StreamNotFoundError,
  timeOrderedId,
} from '@app/event-store';
import { mapInSlices } from '@app/projections';
import { DomainError, UniquenessViolation } from './errors';
import { type OwnerHoldsValue, ownerHoldsValue } from './reservation-holders';
import {
  foldReservation,
  type ReservationKey,
  type ReservationOwner,
  type ReservationState,
  legacyReservationStream,
  reservationStream,
  sha256ValueHash,
  type ValueHash,
} from './reservations';

export interface Claim extends ReservationKey {
  readonly owner: ReservationOwner;
}

export interface StreamWrite {
  readonly streamId: string;
  readonly expectedRevision: ExpectedRevision;
  readonly events: readonly { readonly type: string; readonly data: unknown }[];
}

export interface CommitRequest {
  readonly writes: readonly StreamWrite[];
  readonly claims?: readonly Claim[];
  readonly releases?: readonly Claim[];
  readonly metadata: JsonObject;
  /** Reservation states this attempt already read; a stale one only costs a conflict and a retry. */
  readonly memo?: ReservationMemo;
}

export type ReservationMemo = Map<string, ReservationState>;

/**
 * A reservation whose owner does not hold the value (a crashed saga, a failed release) may be
 * taken over once this old. Long enough for a saga's entity write to land after its claim, even
 * one whose outcome had to be resolved after a timeout.
 */
export const ORPHAN_TIMEOUT_MS = 30_000;
/** Re-appends that try to learn whether an append whose answer was lost committed. */
const RESOLVE_ATTEMPTS = 3;

/**
 * Commits one decision: the entity streams it changes plus the unique values it claims or
 * releases. On a store with atomic multi-stream append (SQLite, KurrentDB ≥ 25.1) it is one
 * transaction. Elsewhere it is the reservation saga of 30-events.md: claim, write, release
 * on failure, with orphaned claims taken over after a timeout.
 */
export class UnitOfWork {
  constructor(
    private readonly store: EventStore,
    /** This instance's clock; only compared with the store's recorded times, never another writer's. */
    private readonly now: () => Date,
    private readonly ownerHolds: OwnerHoldsValue = ownerHoldsValue(store),
    /** How values become stream names: plain SHA-256, or keyed (reservations.ts). */
    private readonly hash: ValueHash = sha256ValueHash,
  ) {}

  async reservation(key: ReservationKey, memo?: ReservationMemo): Promise<ReservationState> {
    const stream = reservationStream(key, this.hash);
    const known = memo?.get(stream);
    if (known) return known;
    const legacyStream = legacyReservationStream(key, this.hash);
    const read = await this.readStreams(legacyStream === undefined ? [stream] : [stream, legacyStream]);
    const state = reservationState(key, read, this.hash);
    memo?.set(stream, state);
    return state;
  }

  /**
   * Reads the reservations of `keys` that `memo` lacks, all at once (one query on a store that
   * reads several streams together), so a decision that looks at several unique values waits
   * for one round trip instead of one per value.
   */
  async prefetchReservations(keys: readonly ReservationKey[], memo: ReservationMemo): Promise<void> {
    const missing = keys.filter((k) => !memo.has(reservationStream(k, this.hash)));
    if (missing.length === 0) return;
    const streams = missing.flatMap((k) => {
      const legacy = legacyReservationStream(k, this.hash);
      return legacy === undefined ? [reservationStream(k, this.hash)] : [reservationStream(k, this.hash), legacy];
    });
    const read = await this.readStreams(streams);
    for (const k of missing) memo.set(reservationStream(k, this.hash), reservationState(k, read, this.hash));
  }

  private async readStreams(streams: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    if (this.store.readStreams) return this.store.readStreams(streams);
    const read = async (stream: string): Promise<[string, RecordedEvent[]]> => {
      try {
        return [stream, await this.store.readStream(stream)];
      } catch (err) {
        if (!(err instanceof StreamNotFoundError)) throw err;
        return [stream, []];
      }
    };
    return new Map(await Promise.all(streams.map(read)));
  }

  async commit(request: CommitRequest): Promise<AppendResult> {
    const claimAppends: StreamAppend[] = [];
    for (const claim of request.claims ?? []) {
      const state = await this.reservation(claim, request.memo);
      if (state.holder && sameOwner(state.holder, claim.owner)) continue;
      if (state.holder && !(await this.isOrphan(claim, state))) {
        throw new UniquenessViolation(claim.kind, uniquenessDetail(claim.kind), state.holder.id);
      }
      claimAppends.push({
        streamId: reservationStream(claim, this.hash),
        expectedRevision: state.revision < 0n ? 'no_stream' : state.revision,
        events: [this.event('ValueReserved', { kind: claim.kind, scopeKey: claim.scopeKey, owner: claim.owner }, request.metadata)],
      });
    }
    const releaseAppends: StreamAppend[] = [];
    for (const release of request.releases ?? []) {
      const state = await this.reservation(release, request.memo);
      const released = this.event('ValueReleased', { kind: release.kind, scopeKey: release.scopeKey, owner: release.owner }, request.metadata);
      if (state.legacy?.state.holder && sameOwner(state.legacy.state.holder, release.owner)) {
        releaseAppends.push({ streamId: state.legacy.stream, expectedRevision: state.legacy.state.revision, events: [released] });
      }
      // The current stream's own holder (the legacy one is folded into `holder` only when it has none).
      const current = state.legacy && state.holder === state.legacy.state.holder ? undefined : state.holder;
      if (!current || !sameOwner(current, release.owner)) continue;
      releaseAppends.push({ streamId: reservationStream(release, this.hash), expectedRevision: state.revision, events: [{ ...released, id: timeOrderedId() }] });
    }
    // A big group write has one entry per member's account: enveloping thousands of events
    // yields between slices like the rest of its preparation.
    const writes: StreamAppend[] = await mapInSlices(
      request.writes.filter((w) => w.events.length > 0),
      (w) => ({
        streamId: w.streamId,
        expectedRevision: w.expectedRevision,
        events: w.events.map((e) => this.event(e.type, e.data, request.metadata)),
      }),
    );
    const all = [...claimAppends, ...writes, ...releaseAppends];
    if (all.length === 0) throw new NothingToCommit();
    if (this.store.supportsMultiStreamAppend) return this.store.appendMulti(all);
    return this.saga(claimAppends, writes, releaseAppends, request.metadata);
  }

  /**
   * Claims, then entity writes, then releases, each an append at the revision decided. An
   * append whose answer was lost (a timeout racing a commit) is resolved before anything is
   * compensated: released blindly, a claim whose entity write did commit would leave the
   * entity without its reservation, free for a second owner to take.
   */
  private async saga(
    claims: StreamAppend[],
    writes: StreamAppend[],
    releases: StreamAppend[],
    metadata: JsonObject,
  ): Promise<AppendResult> {
    const taken: StreamAppend[] = [];
    /** Owner streams whose write committed, or may have (outcome still unknown). */
    const maybeWritten = new Set<string>();
    let last: AppendResult | undefined;
    let failure: unknown;
    let unresolved = false;
    try {
      for (const c of claims) {
        last = await this.appendResolved(c);
        taken.push(c);
      }
      for (const w of writes) {
        try {
          last = await this.appendResolved(w);
          maybeWritten.add(w.streamId);
        } catch (err) {
          if (err instanceof OutcomeUnknown) maybeWritten.add(w.streamId);
          throw err;
        }
      }
    } catch (err) {
      failure = err;
      unresolved = err instanceof OutcomeUnknown;
    }
    if (failure !== undefined) {
      const writeStreams = new Set(writes.map((w) => w.streamId));
      for (const t of taken) {
        const owner = ownerOf(t);
        // A claim stays while its owner's write may have committed (or, for an owner this
        // decision does not write, while any write may have): the orphan check frees it later
        // if the owner turns out not to hold the value.
        if (maybeWritten.has(owner) || (unresolved && !writeStreams.has(owner))) continue;
        // Best effort: a release that fails leaves an orphan, which the timeout recovers.
        await this.store
          .append(t.streamId, [this.event('ValueReleased', t.events[0].data, metadata)], nextAfter(t))
          .catch(() => undefined);
      }
      throw failure instanceof OutcomeUnknown ? failure.cause : failure;
    }
    for (const r of releases) {
      // The entity write is durable; a failed release only keeps a value held until the orphan
      // check sees that its owner no longer holds it.
      last = await this.store.append(r.streamId, r.events, r.expectedRevision).catch(() => last);
    }
    return last as AppendResult;
  }

  /**
   * One append; when its outcome is unknown, the same events (same ids) are appended again at
   * the same exact revision, which the store answers idempotently if the first one committed
   * and with a conflict if it did not (another writer took the revision). Only exact expected
   * revisions make that answer reliable (see the port), so other appends stay unknown.
   */
  private async appendResolved(a: StreamAppend): Promise<AppendResult> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= RESOLVE_ATTEMPTS; attempt++) {
      try {
        return await this.store.append(a.streamId, a.events, a.expectedRevision);
      } catch (err) {
        if (!outcomeUnknown(err)) throw err;
        lastError = err;
        if (!isExact(a.expectedRevision)) break;
      }
    }
    throw new OutcomeUnknown(lastError);
  }

  private async isOrphan(claim: Claim, state: ReservationState): Promise<boolean> {
    if (!state.holder || !state.since) return false;
    if (this.now().getTime() - Date.parse(state.since) < ORPHAN_TIMEOUT_MS) return false;
    return !(await this.ownerHolds(state.holder, claim));
  }

  private event(type: string, data: unknown, metadata: JsonObject) {
    return { id: timeOrderedId(), type, data: data as JsonObject, metadata };
  }
}

/**
 * A commit with no event to append: a decision that changes nothing reached the store instead
 * of returning early. A domain error, so the answer is a refusal (400) that names the reason,
 * never a 500, and nothing is written.
 */
export class NothingToCommit extends DomainError {
  readonly reason = 'nothing_to_commit';
  constructor() {
    super('The request changes nothing');
  }
}

/** The outcome of an append is still unknown after resolving; `cause` is the store's error. */
class OutcomeUnknown extends Error {
  constructor(override readonly cause: unknown) {
    super('The outcome of an append is unknown');
  }
}

/** A conflict or a refusal means nothing was written; a lost answer or an unexpected error may hide a commit. */
function outcomeUnknown(err: unknown): boolean {
  return err instanceof StoreUnavailableError || !(err instanceof EventStoreError);
}

/** Expected revisions for which EventStoreDB guarantees an idempotent re-append. */
function isExact(expected: ExpectedRevision): boolean {
  return typeof expected === 'bigint' || expected === 'no_stream';
}

function ownerOf(claim: StreamAppend): string {
  return (claim.events[0].data as unknown as { owner: ReservationOwner }).owner.stream;
}

/** The revision a claim (one event, at an exact revision) left its reservation stream at. */
function nextAfter(claim: StreamAppend): bigint {
  const before = claim.expectedRevision;
  return (typeof before === 'bigint' ? before : -1n) + 1n;
}

function sameOwner(a: ReservationOwner, b: ReservationOwner): boolean {
  return a.stream === b.stream && a.id === b.id;
}

export function uniquenessDetail(kind: string): string {
  switch (kind) {
    case 'userName':
      return 'userName is already in use in this scope';
    case 'nameId':
      return 'externalId (SAML NameID) is already in use in this scope';
    case 'email':
      return 'email is already in use by another account';
    case 'username':
      return 'the account username is already taken';
    case 'displayName':
      return 'displayName is already in use in this scope';
    case 'groupPath':
      return 'a group with this path already exists';
    case 'domain':
      return 'the domain is already verified by another group';
    default:
      return `${kind} is already in use`;
  }
}

function reservationState(key: ReservationKey, read: ReadonlyMap<string, readonly RecordedEvent[]>, hash: ValueHash): ReservationState {
  const state = foldStored(read.get(reservationStream(key, hash)) ?? []);
  const legacyStream = legacyReservationStream(key, hash);
  if (legacyStream === undefined) return state;
  // Taken before the identifier fold: held under the old stream name only.
  const legacy = foldStored(read.get(legacyStream) ?? []);
  return {
    ...state,
    ...(!state.holder && legacy.holder ? { holder: legacy.holder, since: legacy.since } : {}),
    legacy: { stream: legacyStream, state: legacy },
  };
}

function foldStored(events: readonly RecordedEvent[]): ReservationState {
  if (events.length === 0) return { revision: -1n };
  // Age counts from the store's recorded time of the last claim or release: the writer's
  // own `occurredAt` comes from whichever instance wrote it, with that machine's clock.
  return { ...foldReservation(events), since: events.at(-1)?.recordedAt.toISOString() };
}
