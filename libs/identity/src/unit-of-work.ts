import {
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type JsonObject,
  type StreamAppend,
  StreamNotFoundError,
  WrongExpectedRevisionError,
  timeOrderedId,
} from '@app/event-store';
import { UniquenessViolation } from './errors';
import {
  foldReservation,
  type ReservationKey,
  type ReservationOwner,
  type ReservationState,
  legacyReservationStream,
  reservationStream,
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

/** A reservation whose owner stream never appeared (a crashed saga) may be taken over after this. */
const ORPHAN_TIMEOUT_MS = 30_000;

/**
 * Commits one decision: the entity streams it changes plus the unique values it claims or
 * releases. On a store with atomic multi-stream append (SQLite, KurrentDB ≥ 25.1) it is one
 * transaction. Elsewhere it is the reservation saga of 30-events.md: claim, write, release
 * on failure, with orphaned claims taken over after a timeout.
 */
export class UnitOfWork {
  constructor(
    private readonly store: EventStore,
    private readonly now: () => Date,
  ) {}

  async reservation(key: ReservationKey, memo?: ReservationMemo): Promise<ReservationState> {
    const stream = reservationStream(key);
    const known = memo?.get(stream);
    if (known) return known;
    let state = await this.readReservation(stream);
    const legacyStream = legacyReservationStream(key);
    if (legacyStream !== undefined) {
      // Taken before the identifier fold: held under the old stream name only.
      const legacy = await this.readReservation(legacyStream);
      state = {
        ...state,
        ...(!state.holder && legacy.holder ? { holder: legacy.holder, since: legacy.since } : {}),
        legacy: { stream: legacyStream, state: legacy },
      };
    }
    memo?.set(stream, state);
    return state;
  }

  private async readReservation(stream: string): Promise<ReservationState> {
    try {
      return foldReservation(await this.store.readStream(stream));
    } catch (err) {
      if (!(err instanceof StreamNotFoundError)) throw err;
      return { revision: -1n };
    }
  }

  async commit(request: CommitRequest): Promise<AppendResult> {
    const claimAppends: StreamAppend[] = [];
    for (const claim of request.claims ?? []) {
      const state = await this.reservation(claim, request.memo);
      if (state.holder && sameOwner(state.holder, claim.owner)) continue;
      if (state.holder && !(await this.isOrphan(state))) {
        throw new UniquenessViolation(claim.kind, uniquenessDetail(claim.kind), state.holder.id);
      }
      claimAppends.push({
        streamId: reservationStream(claim),
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
      releaseAppends.push({ streamId: reservationStream(release), expectedRevision: state.revision, events: [{ ...released, id: timeOrderedId() }] });
    }
    const writes: StreamAppend[] = request.writes
      .filter((w) => w.events.length > 0)
      .map((w) => ({
        streamId: w.streamId,
        expectedRevision: w.expectedRevision,
        events: w.events.map((e) => this.event(e.type, e.data, request.metadata)),
      }));
    const all = [...claimAppends, ...writes, ...releaseAppends];
    if (all.length === 0) throw new Error('Nothing to commit');
    if (this.store.supportsMultiStreamAppend) return this.store.appendMulti(all);
    return this.saga(claimAppends, writes, releaseAppends, request.metadata);
  }

  private async saga(
    claims: StreamAppend[],
    writes: StreamAppend[],
    releases: StreamAppend[],
    metadata: JsonObject,
  ): Promise<AppendResult> {
    const taken: { streamId: string; revision: bigint; data: JsonObject }[] = [];
    let last: AppendResult | undefined;
    try {
      for (const c of claims) {
        last = await this.store.append(c.streamId, c.events, c.expectedRevision);
        taken.push({ streamId: c.streamId, revision: last.nextExpectedRevision, data: c.events[0].data });
      }
      for (const w of writes) last = await this.store.append(w.streamId, w.events, w.expectedRevision);
    } catch (err) {
      for (const t of taken) {
        // Best effort: a release that fails leaves an orphan, which the timeout recovers.
        await this.store
          .append(t.streamId, [this.event('ValueReleased', t.data, metadata)], t.revision)
          .catch(() => undefined);
      }
      throw err;
    }
    for (const r of releases) {
      // The entity write is durable; a failed release only keeps a value held longer.
      last = await this.store.append(r.streamId, r.events, r.expectedRevision).catch(() => last);
    }
    return last as AppendResult;
  }

  private async isOrphan(state: ReservationState): Promise<boolean> {
    if (!state.holder || !state.since) return false;
    if (this.now().getTime() - Date.parse(state.since) < ORPHAN_TIMEOUT_MS) return false;
    try {
      await this.store.readStream(state.holder.stream, { maxCount: 1 });
      return false;
    } catch (err) {
      if (err instanceof StreamNotFoundError) return true;
      throw err;
    }
  }

  private event(type: string, data: unknown, metadata: JsonObject) {
    return { id: timeOrderedId(), type, data: data as JsonObject, metadata };
  }
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

/** Re-runs a decision when another writer got there first, up to a limit. */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  onConflict: (err: WrongExpectedRevisionError) => void = () => undefined,
  maxAttempts = 25,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError) || i >= maxAttempts) throw err;
      onConflict(err);
      // Jitter spreads racing writers apart so they stop colliding.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** i, 50)));
    }
  }
}
