import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '../errors';
import { createPool, type Pool } from '../postgres/postgres-client';
import { acquireWithin, type LeaderLease } from './leader-lease';

/**
 * Leases as PostgreSQL session advisory locks on the event store's database. A lock lives
 * exactly as long as the connection that took it: an instance killed mid-work loses its
 * leases with its connection, so nobody waits on a lease expiry and no clock is compared
 * across machines.
 */
export class PostgresLeaderLease implements LeaderLease {
  private readonly pool: Pool;

  constructor(connectionString: string) {
    // Its own small pool: a lease held through a long job must never starve the appends.
    this.pool = createPool(connectionString, { connectTimeoutMs: 2000, queryTimeoutMs: 5000, maxConnections: 2, applicationName: 'scim-server lease' });
  }

  async runExclusive<T>(name: string, work: () => Promise<T>, options: { waitMs?: number } = {}): Promise<{ ran: true; value: T } | { ran: false }> {
    const key = lockKey(name);
    const client = await this.pool.connect().catch((err: Error) => {
      throw new StoreUnavailableError(`lease ${name}: ${err.message}`, err);
    });
    // A checked-out client reports a lost connection as an 'error' event: unhandled, that would
    // take the process down while the work runs. The unlock below then fails and drops it.
    const onError = () => undefined;
    client.on('error', onError);
    const release = (destroy?: boolean) => {
      client.off('error', onError);
      client.release(destroy);
    };
    const acquire = async () =>
      (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key.toString()])).rows[0].ok;
    let acquired: boolean;
    try {
      acquired = await acquireWithin(acquire, options.waitMs ?? 0);
    } catch (err) {
      release(true);
      throw new StoreUnavailableError(`lease ${name}: ${(err as Error).message}`, err);
    }
    if (!acquired) {
      release();
      return { ran: false };
    }
    try {
      return { ran: true, value: await work() };
    } finally {
      // Not unlocked (connection lost): drop the connection, which releases its locks.
      const unlocked = await client.query('SELECT pg_advisory_unlock($1::bigint)', [key.toString()]).then(
        () => true,
        () => false,
      );
      release(!unlocked);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** A signed 64-bit key per lease name, in a namespace of its own (the store's locks use small constants). */
export function lockKey(name: string): bigint {
  return createHash('sha256').update(`scim-lease:${name}`).digest().readBigInt64BE(0);
}
