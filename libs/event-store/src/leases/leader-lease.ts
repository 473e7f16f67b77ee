/**
 * Background work that must run once across every instance sharing a store (audit
 * checkpoints, later event delivery): whoever holds the lease for a name runs it, the others
 * skip that round or wait their turn. The lease decides who works, never what is written:
 * the work itself stays safe to repeat (it re-reads the store's head under the lease).
 */
export interface LeaderLease {
  /**
   * Runs `work` while holding the lease `name`. Without `waitMs` (or 0) a held lease skips the
   * round (`ran: false`); otherwise the call waits up to `waitMs` for it.
   */
  runExclusive<T>(name: string, work: () => Promise<T>, options?: { waitMs?: number }): Promise<{ ran: true; value: T } | { ran: false }>;
  close(): Promise<void>;
}

export const LEADER_LEASE = Symbol('LEADER_LEASE');

const RETRY_MS = 20;

/** Tries `acquire` until it succeeds or `waitMs` passes. */
export async function acquireWithin(acquire: () => Promise<boolean>, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await acquire()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/** One process owns the store (the embedded SQLite file): a lease is a name in a set. */
export class InProcessLeaderLease implements LeaderLease {
  private readonly held = new Set<string>();

  async runExclusive<T>(name: string, work: () => Promise<T>, options: { waitMs?: number } = {}): Promise<{ ran: true; value: T } | { ran: false }> {
    const acquire = () => Promise.resolve(!this.held.has(name) && this.held.add(name) !== undefined);
    if (!(await acquireWithin(acquire, options.waitMs ?? 0))) return { ran: false };
    try {
      return { ran: true, value: await work() };
    } finally {
      this.held.delete(name);
    }
  }

  async close(): Promise<void> {}
}
