import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessLeaderLease } from '@app/event-store';
import { PostgresEventStore, type PostgresEventStoreOptions } from '@app/event-store/adapters';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '@app/event-store/testing/postgres-test-database';
import { waitFor } from '@app/testing';
import { type AsyncRequestAccepted, asyncRequestStreamId } from '../async-request.events';
import { AsyncRequestRecovery } from './async-request-recovery.service';
import type { AsyncRequestRunner } from './async-request-runner.service';

/**
 * The commit-order case on a shared store: an acceptance that took a smaller position commits
 * after a round already saw a larger one. SCIM_PG_NAIVE_POSITIONS=1 writes with positions taken
 * without the store's lock (as a naive adapter would): then the late one is missed and this fails.
 */
const unavailable = postgresUnavailableReason();
const naive = process.env.SCIM_PG_NAIVE_POSITIONS === '1';

const request = (txn: string): AsyncRequestAccepted => ({
  txn,
  scope: 'instance',
  tokenId: 'tok',
  method: 'POST',
  path: '/Users',
  bulk: false,
  url: '/api/scim/v2/application/Users',
  body: { userName: `${txn}@example.com` },
  ifMatch: null,
  userAgent: null,
  tokenSha256Prefix: 'abcd1234',
  acceptedBy: 'me',
});

(unavailable ? describe.skip : describe)('async request recovery on PostgreSQL: a late commit', () => {
  if (unavailable) console.warn(`async request recovery on PostgreSQL skipped: ${unavailable}`);
  let db: TestDatabase;
  const stores: PostgresEventStore[] = [];
  const open = (options: PostgresEventStoreOptions = {}) => {
    const store = new PostgresEventStore(db.url, { pollIntervalMs: 200, ...options });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await db?.drop();
  });

  it('an acceptance that commits after a round saw a later one is run by the next round', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    // Two other instances accept; this one recovers.
    const slow = open({ unsafeConcurrentPositions: naive, beforeCommit: async () => void (held++ === 0 && (await gate)) });
    const fast = open({ unsafeConcurrentPositions: naive });
    const reader = open();
    const ran: string[] = [];
    const runner = {
      instanceId: 'me',
      isRunning: () => false,
      run: async (r: AsyncRequestAccepted) => {
        ran.push(r.txn);
        await reader.append(asyncRequestStreamId(r.txn), [{ id: randomUUID(), type: 'AsyncRequestCompleted', data: { txn: r.txn, scope: r.scope, operations: [] } }], 0n);
        return { reply: { status: 201, headers: {}, body: '' }, operations: [] };
      },
    } as unknown as AsyncRequestRunner;
    const recovery = new AsyncRequestRecovery(reader, new InProcessLeaderLease(), runner);
    const accept = (store: PostgresEventStore, txn: string) =>
      store.append(asyncRequestStreamId(txn), [{ id: randomUUID(), type: 'AsyncRequestAccepted', data: request(txn) }], 'no_stream');

    // A first round: the recovery has a position in the log.
    await accept(fast, 'before');
    expect(await recovery.round()).toBe(1);
    try {
      const late = accept(slow, 'late');
      await waitFor(async () => held === 1, { what: 'the late acceptance inside its transaction' });
      const early = accept(fast, 'early');
      // The store's lock keeps the second writer waiting; without it it commits a larger position now.
      await Promise.race([early, waitFor(async () => (await lockWaiters(db)) > 0, { what: 'the second writer waiting for the position lock' })]);
      await recovery.round();
      release();
      const [lateResult, earlyResult] = await Promise.all([late, early]);
      expect(lateResult.position).toBeLessThan(earlyResult.position);
      await recovery.round();
      expect(ran.sort()).toEqual(['before', 'early', 'late']);
    } finally {
      release();
    }
  }, 30_000);
});

/** Connections of this test's database waiting for an advisory lock (the position lock). */
async function lockWaiters(db: TestDatabase): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}
