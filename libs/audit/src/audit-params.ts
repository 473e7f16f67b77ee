import { InvalidCommand } from '@app/identity';
import type { AuditHandle, AuditQuery } from './audit.projection';

/** Long work gives the event loop back between pages (setImmediate: after pending I/O). */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function auditTime(v: string, name: string): number {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidCommand(`${name} must be an RFC 3339 time`, name);
  return ms;
}

/** Paging cursors are opaque to clients: the global position of the last record they saw. */
export function encodeCursor(position: number): string {
  return Buffer.from(`p:${position}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const m = /^p:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new InvalidCommand('after is not a cursor this server issued', 'after');
  return Number(m[1]);
}

export interface RangeParams {
  readonly since?: string;
  readonly until?: string;
  readonly fromPosition?: string;
  readonly toPosition?: string;
}

/**
 * The log positions [from, to] an export covers; `{ from: 1, to: 0 }` when nothing lies in the
 * time range. An explicit position range (from a manifest) makes repeated exports byte-identical.
 */
export function auditRange(audit: Pick<AuditHandle, 'query'>, q: RangeParams): { from: number; to: number } {
  if (q.fromPosition !== undefined || q.toPosition !== undefined) {
    const from = Number(q.fromPosition ?? 0);
    const to = Number(q.toPosition ?? Number.MAX_SAFE_INTEGER);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new InvalidCommand('fromPosition and toPosition must be integers', 'fromPosition');
    return { from, to };
  }
  const rows = (sinceMs: number | undefined, untilMs: number | undefined, descending: boolean) =>
    audit.query({ ...(sinceMs !== undefined ? { sinceMs } : {}), ...(untilMs !== undefined ? { untilMs } : {}), descending, limit: 1 });
  const sinceMs = q.since ? auditTime(q.since, 'since') : undefined;
  const untilMs = q.until ? auditTime(q.until, 'until') : undefined;
  const first = rows(sinceMs, untilMs, false)[0];
  const last = rows(sinceMs, untilMs, true)[0];
  return first && last ? { from: Number(first.position), to: Number(last.position) } : { from: 1, to: 0 };
}

/** The refused requests about these targets (identity ids), in log order. */
export function rejectionsOfTargets(targetIds: readonly string[], limit: number): AuditQuery {
  return {
    where: { sql: `outcome = 'rejected' AND target_id IN (${targetIds.map(() => '?').join(', ')})`, params: [...targetIds] },
    descending: false,
    limit,
  };
}
