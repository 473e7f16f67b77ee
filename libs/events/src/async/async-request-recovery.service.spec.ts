import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { type EventStore, InProcessLeaderLease } from '@app/event-store';
import { openSqliteDatabase, type SqliteDb, SqliteEventStore } from '@app/event-store/adapters';
import { type AsyncRequestAccepted, asyncRequestStreamId } from '../async-request.events';
import { AsyncRequestRecovery } from './async-request-recovery.service';
import type { AsyncRequestRunner } from './async-request-runner.service';

const request = (txn: string, acceptedBy: string): AsyncRequestAccepted => ({
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
  acceptedBy,
});

describe('async request recovery', () => {
  let db: SqliteDb;
  let store: SqliteEventStore;
  let ran: { txn: string; committed: string[] }[];
  let running: Set<string>;

  const runner = () =>
    ({
      instanceId: 'me',
      isRunning: (txn: string) => running.has(txn),
      run: jest.fn(async (r: AsyncRequestAccepted, committed: readonly { type: string }[] = []) => {
        ran.push({ txn: r.txn, committed: committed.map((e) => e.type) });
        await store.append(asyncRequestStreamId(r.txn), [{ id: randomUUID(), type: 'AsyncRequestCompleted', data: { txn: r.txn, scope: r.scope, operations: [] } }], 0n);
        return { reply: { status: 201, headers: {}, body: '' }, operations: [] };
      }),
    }) as unknown as AsyncRequestRunner;

  const accept = (r: AsyncRequestAccepted) => store.append(asyncRequestStreamId(r.txn), [{ id: randomUUID(), type: 'AsyncRequestAccepted', data: r }], 'no_stream');
  /** The same store, as a store other instances share (no single owner of the log). */
  const asShared = (): EventStore => Object.create(store, { name: { value: 'postgres' } }) as EventStore;

  beforeEach(() => {
    db = openSqliteDatabase({ filename: ':memory:' });
    store = new SqliteEventStore(db, { closeDatabase: false });
    ran = [];
    running = new Set();
  });
  afterEach(() => {
    delete process.env.ASYNC_REQUEST_ORPHAN_AFTER_MS;
    db.close();
  });

  it('on the embedded store, runs every accepted request without a completion that this process is not running, oldest first, once', async () => {
    await accept(request('t1', 'gone'));
    await accept(request('t2', 'me'));
    await accept(request('t3', 'me'));
    running.add('t3');
    await store.append(asyncRequestStreamId('t4'), [{ id: randomUUID(), type: 'AsyncRequestAccepted', data: request('t4', 'gone') }], 'no_stream');
    await store.append(asyncRequestStreamId('t4'), [{ id: randomUUID(), type: 'AsyncRequestCompleted', data: { txn: 't4', scope: 'instance', operations: [] } }], 0n);
    const recovery = new AsyncRequestRecovery(store, new InProcessLeaderLease(), runner());
    expect(await recovery.round()).toBe(2);
    expect(ran.map((r) => r.txn)).toEqual(['t1', 't2']);
    expect(await recovery.round()).toBe(0);
  });

  it('on a shared store, leaves another live instance its requests for the grace period, takes its own at once', async () => {
    process.env.ASYNC_REQUEST_ORPHAN_AFTER_MS = '60000';
    await accept(request('theirs', 'other-instance'));
    await accept(request('mine', 'me'));
    expect(await new AsyncRequestRecovery(asShared(), new InProcessLeaderLease(), runner()).round()).toBe(1);
    expect(ran.map((r) => r.txn)).toEqual(['mine']);

    process.env.ASYNC_REQUEST_ORPHAN_AFTER_MS = '0';
    expect(await new AsyncRequestRecovery(asShared(), new InProcessLeaderLease(), runner()).round()).toBe(1);
    expect(ran.map((r) => r.txn)).toEqual(['mine', 'theirs']);
  });

  it('hands the run the events its txn already wrote after the acceptance (a write that committed before the crash)', async () => {
    await store.append('account-a1', [{ id: randomUUID(), type: 'Unrelated', data: {}, metadata: { $correlationId: 'x' } }], 'no_stream');
    await accept(request('t1', 'gone'));
    await store.append('account-a2', [{ id: randomUUID(), type: 'UserProvisioned', data: { identityId: 'i1' }, metadata: { $correlationId: 't1' } }], 'no_stream');
    await store.append('account-a3', [{ id: randomUUID(), type: 'Other', data: {}, metadata: { $correlationId: 'y' } }], 'no_stream');
    expect(await new AsyncRequestRecovery(store, new InProcessLeaderLease(), runner()).round()).toBe(1);
    expect(ran).toEqual([{ txn: 't1', committed: ['UserProvisioned'] }]);
  });

  it('runs a round on one instance at a time (the lease)', async () => {
    await accept(request('t1', 'gone'));
    const lease = new InProcessLeaderLease();
    const recovery = new AsyncRequestRecovery(store, lease, runner());
    const other = lease.runExclusive('async-request-recovery', () => recovery.round());
    expect(await other).toEqual({ ran: true, value: 0 });
    expect(ran).toEqual([]);
  });
});
