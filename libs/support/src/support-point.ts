import { InvalidCommand } from '@app/identity';

/** A point in an account's history: a stream revision (wins) or a time; neither means now. */
export interface HistoryPoint {
  readonly at?: string;
  readonly revision?: string;
}

export function supportTime(v: string): number {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidCommand('times must be RFC 3339', 'at');
  return ms;
}

export function pointOf(p: HistoryPoint): { atMs?: number; revision?: bigint } {
  if (p.revision !== undefined) {
    if (!/^\d{1,18}$/.test(p.revision)) throw new InvalidCommand('revision must be a non-negative integer', 'revision');
    return { revision: BigInt(p.revision) };
  }
  return p.at !== undefined ? { atMs: supportTime(p.at) } : {};
}
