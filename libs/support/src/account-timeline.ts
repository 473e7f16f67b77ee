import type { RecordedEvent } from '@app/event-store';
import { occurredAtOf } from '@app/identity';
import { guessIdp, oneLine } from './account-history';
import { supportTime } from './support-point';

export interface TimelineEntry {
  readonly position: string;
  readonly recordedAt: string;
  readonly occurredAt: string;
  readonly type: string;
  readonly scope: string;
  readonly actor: unknown;
  readonly idp: string | undefined;
  readonly requestId: unknown;
  readonly outcome: 'success' | 'rejected';
  readonly summary: string;
  readonly data: unknown;
}

/** A refused request as the audit log keeps it (the fields the timeline shows). */
export interface RejectionRecord {
  readonly position: string;
  readonly recordedAt: string;
  readonly occurredAt: string;
  readonly type: string;
  readonly scope: string;
  readonly actor: unknown;
  readonly request?: unknown;
  readonly correlationId?: string;
  readonly data: unknown;
}

export interface TimelineFilter {
  readonly type?: string;
  readonly scope?: string;
  readonly since?: string;
  readonly until?: string;
}

export function eventEntry(e: RecordedEvent): TimelineEntry {
  return {
    position: e.position.toString(),
    recordedAt: e.recordedAt.toISOString(),
    occurredAt: occurredAtOf(e),
    type: e.type,
    scope: String(e.metadata.scope ?? ''),
    actor: e.metadata.actor,
    idp: guessIdp((e.metadata.request as { userAgent?: string } | undefined)?.userAgent),
    requestId: e.metadata.$correlationId,
    outcome: 'success',
    summary: oneLine(e.type, e.data as Record<string, unknown>),
    data: e.data,
  };
}

export function rejectionEntry(r: RejectionRecord): TimelineEntry {
  return {
    position: r.position,
    recordedAt: r.recordedAt,
    occurredAt: r.occurredAt,
    type: r.type,
    scope: r.scope,
    actor: r.actor,
    idp: guessIdp((r.request as { userAgent?: string } | undefined)?.userAgent),
    requestId: r.correlationId,
    outcome: 'rejected',
    summary: oneLine(r.type, r.data as Record<string, unknown>),
    data: r.data,
  };
}

/**
 * The entries the filter keeps, in log order. A time in the filter is parsed only when there is
 * an entry to compare it with, so an empty timeline answers 200 whatever the filter says.
 */
export function selectTimeline(entries: readonly TimelineEntry[], f: TimelineFilter): TimelineEntry[] {
  return entries
    .filter((e) => !f.type || e.type === f.type)
    .filter((e) => !f.scope || e.scope === f.scope)
    .filter((e) => !f.since || Date.parse(e.recordedAt) >= supportTime(f.since))
    .filter((e) => !f.until || Date.parse(e.recordedAt) < supportTime(f.until))
    .sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
}
