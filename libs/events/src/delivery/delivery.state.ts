import type { RecordedEvent } from '@app/event-store';
import type { FeedEntry } from '../sets/security-events.mapping';
import type { FeedKey } from '../sets/scim-events.projection';
import { jtiOf, parseJti, setClaimsFor } from '../sets/set-claims';
import type { JsonObject } from '@app/event-store';
import { eventsDelivered, evolve, initialState, type StreamState, subjectKey } from '../streams/stream.decider';
import { deliveryEvents, type StreamConfig, streamEvents } from '../streams/stream.events';

/** A stream as delivery needs it: its decider state plus what only log positions tell. */
export interface StreamView {
  readonly state: StreamState;
  readonly revision: bigint;
  /** SETs start after the event that created the stream. */
  readonly createdAt: bigint;
  /** Log ranges (from, to] in which the stream was disabled: their SETs are dropped, never delivered. */
  readonly disabled: readonly { readonly from: bigint; readonly to: bigint | null }[];
}

export function streamViewOf(recorded: readonly RecordedEvent[]): StreamView {
  let state = initialState();
  let createdAt = -1n;
  const disabled: { from: bigint; to: bigint | null }[] = [];
  for (const r of recorded) {
    const e = streamEvents.decode(r);
    if (!e) continue;
    if (e.type === 'SetStreamCreated') createdAt = r.position;
    if (e.type === 'SetStreamStatusChanged') {
      const open = disabled.at(-1);
      if (e.data.status === 'disabled' && (!open || open.to !== null)) disabled.push({ from: r.position, to: null });
      if (e.data.status !== 'disabled' && open && open.to === null) open.to = r.position;
    }
    state = evolve(state, e);
  }
  return { state, revision: recorded.length > 0 ? (recorded.at(-1) as RecordedEvent).revision : -1n, createdAt, disabled };
}

/** Poll acknowledgements and push progress of one stream (RFC 8936 acks, RFC 8935 cursor). */
export interface DeliveryProgress {
  /** Every SET at or before this key is acknowledged (poll) or accepted (push). */
  readonly floor: FeedKey | null;
  /** Acknowledged `jti`s after the floor (acks may come out of order). */
  readonly acked: ReadonlySet<string>;
  readonly revision: bigint;
  /** When the newest acknowledgement or settlement was recorded (absent before the first): "last delivery". */
  readonly lastAt?: string;
}

export const compareKeys = (a: FeedKey, b: FeedKey) => (a.position === b.position ? a.index - b.index : a.position < b.position ? -1 : 1);

/**
 * Progress from the delivery stream's events, oldest first; only those from the last
 * `SetsSettled` on matter (it carries the acknowledgements above its floor).
 */
export function deliveryProgressOf(streamId: string, recorded: readonly RecordedEvent[]): DeliveryProgress {
  let floor: FeedKey | null = null;
  let acked = new Set<string>();
  for (const r of recorded) {
    const e = deliveryEvents.decode(r);
    if (!e) continue;
    if (e.type === 'SetsAcknowledged') for (const j of e.data.jtis) acked.add(j);
    else {
      const key = { position: BigInt(e.data.position), index: e.data.index };
      if (!floor || compareKeys(key, floor) > 0) floor = key;
      if (e.data.ackedAbove) acked = new Set([...acked, ...e.data.ackedAbove]);
    }
  }
  if (floor) {
    const f = floor;
    for (const j of acked) {
      const k = parseJti(streamId, j);
      if (k && compareKeys(k, f) <= 0) acked.delete(j);
    }
  }
  const newest = recorded.at(-1);
  return { floor, acked, revision: newest ? newest.revision : -1n, ...(newest ? { lastAt: newest.recordedAt.toISOString() } : {}) };
}

/** One SET of a stream, as its claims, before signing. */
export interface PendingSet {
  readonly key: FeedKey;
  readonly jti: string;
  readonly claims: JsonObject;
}

/**
 * Whether the stream delivers `entry` at all: after its creation, outside the times it was
 * disabled, about a subject it has (its own feed:add/remove and verification always), and for
 * an event it asked for. Pure, so poll and push decide alike.
 */
export function setFor(entry: FeedEntry, view: StreamView): PendingSet | undefined {
  const { state } = view;
  const config = state.config as StreamConfig;
  if (entry.position <= view.createdAt) return undefined;
  if (view.disabled.some((d) => entry.position > d.from && (d.to === null || entry.position < d.to))) return undefined;
  if (!entry.streamId && entry.subject && state.excluded.includes(subjectKey(entry.subject))) return undefined;
  if (entry.streamId && entry.streamId !== state.id) return undefined;
  const events = entry.streamId ? [...eventsDelivered(config), ...Object.keys(entry.notice)] : eventsDelivered(config);
  const claims = setClaimsFor(entry, { streamId: state.id, issuer: config.issuer, audience: config.audience, events: events.length > 0 ? events : [] });
  if (!claims) return undefined;
  const key = { position: entry.position, index: entry.index };
  return { key, jti: jtiOf(state.id, entry.position, entry.index), claims };
}
