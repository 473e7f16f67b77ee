import { InvalidCommand } from '@app/identity';
import { LOOP_MIN, type ProvisioningHealth } from './audit.projection';
import type { AuditNames } from './audit-names.port';
import { auditTime } from './audit-params';

const DAY_MS = 86_400_000;

export interface HealthWindow {
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly buckets: number;
  readonly bucketMs: number;
}

/** The window asked for: 24 hours before `until` (default now), at most 31 days, 1 to 200 buckets. */
export interface HealthParams {
  readonly since?: string;
  readonly until?: string;
  readonly buckets?: string;
}

export function healthWindow(q: HealthParams, nowMs: number): HealthWindow {
  const untilMs = q.until ? auditTime(q.until, 'until') : nowMs;
  const sinceMs = q.since ? auditTime(q.since, 'since') : untilMs - DAY_MS;
  if (sinceMs >= untilMs) throw new InvalidCommand('since must lie before until', 'since');
  if (untilMs - sinceMs > 31 * DAY_MS) throw new InvalidCommand('the window may span at most 31 days', 'since');
  const buckets = q.buckets === undefined ? 48 : Number(q.buckets);
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 200) throw new InvalidCommand('buckets must be an integer from 1 to 200', 'buckets');
  return { sinceMs, untilMs, buckets, bucketMs: Math.max(1000, Math.ceil((untilMs - sinceMs) / buckets)) };
}

export interface HealthSource {
  readonly scope: string;
  readonly tokenId: string | null;
  readonly requests: number[];
  readonly refusals: number[];
  readonly scopeName: string;
  readonly tokenName: string | null;
  readonly totalRequests: number;
  readonly totalRefusals: number;
  readonly reasons: { reason: string; status: number; count: number }[];
}

export interface HealthReport {
  readonly since: string;
  readonly until: string;
  readonly bucketSeconds: number;
  readonly loopThreshold: number;
  readonly sources: HealthSource[];
  readonly loops: {
    scope: string;
    scopeName: string;
    tokenId: string | null;
    method: string;
    resource: string;
    targetId: string;
    accountId: string | null;
    reason: string;
    attribute: string | null;
    count: number;
    first: string;
    last: string;
  }[];
}

/** Per scope and SCIM token: requests and refusals per bucket, the top five reasons; and the retry loops, named. */
export function healthReport(h: ProvisioningHealth, w: HealthWindow, names: AuditNames): HealthReport {
  const key = (r: { scope: string; tokenId: string | null }) => `${r.scope}\u0000${r.tokenId ?? ''}`;
  const sources = new Map<string, { scope: string; tokenId: string | null; requests: number[]; refusals: number[] }>();
  for (const r of h.series) {
    let s = sources.get(key(r));
    if (!s) sources.set(key(r), (s = { scope: r.scope, tokenId: r.tokenId, requests: new Array<number>(w.buckets).fill(0), refusals: new Array<number>(w.buckets).fill(0) }));
    if (r.bucket >= 0 && r.bucket < w.buckets) {
      s.requests[r.bucket] += r.requests;
      s.refusals[r.bucket] += r.refusals;
    }
  }
  return {
    since: new Date(w.sinceMs).toISOString(),
    until: new Date(w.untilMs).toISOString(),
    bucketSeconds: w.bucketMs / 1000,
    loopThreshold: LOOP_MIN,
    sources: [...sources.values()].map((s) => ({
      ...s,
      scopeName: names.scopeName(s.scope),
      tokenName: s.tokenId ? (names.tokenName(s.tokenId) ?? null) : null,
      totalRequests: s.requests.reduce((a, b) => a + b, 0),
      totalRefusals: s.refusals.reduce((a, b) => a + b, 0),
      reasons: h.reasons.filter((r) => key(r) === key(s)).slice(0, 5).map((r) => ({ reason: r.reason, status: r.status, count: r.count })),
    })),
    loops: h.loops.map((l) => ({
      scope: l.scope,
      scopeName: names.scopeName(l.scope),
      tokenId: l.tokenId,
      method: l.method,
      resource: l.resource,
      targetId: l.targetId,
      accountId: names.accountOf(l.targetId),
      reason: l.reason,
      attribute: l.attribute,
      count: l.count,
      first: new Date(l.firstMs).toISOString(),
      last: new Date(l.lastMs).toISOString(),
    })),
  };
}
