import type { ProjectionRunner } from './projection-runner';

/**
 * Read-your-writes: every append of this process reports its commit position here, and a
 * query first waits (bounded) until the projections have applied the highest one. An IdP
 * that POSTs and immediately filters sees its user.
 *
 * On a store shared by several instances (`head` given), a query also waits for the store's
 * head as of the request, so a write acknowledged by another instance before this request
 * arrived is seen too (POST on A, GET on B). The embedded store has one writer: its own
 * writes are the whole log, and it keeps the cheaper path.
 */
export class ReadYourWrites {
  private highest = -1n;
  /** The head query in flight, and the one queued behind it (see `storeHead`). */
  private current?: Promise<bigint>;
  private queued?: Promise<bigint>;

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly timeoutMs = 2000,
    private readonly head?: () => Promise<bigint>,
  ) {}

  wrote(position: bigint): void {
    if (position > this.highest) this.highest = position;
  }

  get highestWritten(): bigint {
    return this.highest;
  }

  /**
   * Resolves true when the read models include every write of this process (and, on a
   * shared store, every write in the store when the call was made). A store that cannot be
   * asked for its head rejects (StoreUnavailableError: the request gets a 503).
   */
  async settle(position?: bigint): Promise<boolean> {
    let target = position ?? this.highest;
    if (position === undefined && this.head) {
      const head = await this.storeHead();
      if (head > target) target = head;
    }
    return this.runner.waitFor(target, this.timeoutMs);
  }

  /**
   * The store's head, read by a query that started after this call: concurrent callers share
   * one query instead of one each. A query already in flight may have started before a write
   * this caller must see, so callers arriving then share the next query, started as soon as
   * the current one ends.
   */
  private storeHead(): Promise<bigint> {
    const read = this.head as () => Promise<bigint>;
    if (!this.current) {
      const p = read().finally(() => {
        if (this.current === p) this.current = undefined;
      });
      this.current = p;
      return p;
    }
    if (!this.queued) {
      const q = this.current
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          const p = read().finally(() => {
            if (this.current === p) this.current = undefined;
          });
          this.current = p;
          return p;
        });
      this.queued = q;
    }
    return this.queued;
  }
}
