import type { ProjectionRunner } from './projection-runner';

/**
 * Read-your-writes for this process: every append reports its commit position here, and a
 * query first waits (bounded) until the projections have applied the highest one. An IdP
 * that POSTs and immediately filters sees its user.
 */
export class ReadYourWrites {
  private highest = -1n;

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly timeoutMs = 2000,
  ) {}

  wrote(position: bigint): void {
    if (position > this.highest) this.highest = position;
  }

  get highestWritten(): bigint {
    return this.highest;
  }

  /** Resolves true when the read models include every write of this process. */
  settle(position: bigint = this.highest): Promise<boolean> {
    return this.runner.waitFor(position, this.timeoutMs);
  }
}
