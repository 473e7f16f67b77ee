import { createClient } from '../postgres/postgres-client';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '../testing/postgres-test-database';
import { InProcessLeaderLease, type LeaderLease } from './leader-lease';
import { PostgresLeaderLease } from './postgres-leader-lease';

/** Work that holds its lease until the test lets it finish. */
function heldWork() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const work = async () => {
    started();
    await opened;
    return 'a';
  };
  return { work, running, finish: open };
}

async function holdsOnce(a: LeaderLease, b: LeaderLease): Promise<void> {
  const held = heldWork();
  const first = a.runExclusive('job', held.work);
  await held.running;
  // Held elsewhere: skipped without waiting, and a waiting caller gives up after its wait.
  expect(await b.runExclusive('job', () => Promise.resolve('b'))).toEqual({ ran: false });
  expect(await b.runExclusive('job', () => Promise.resolve('b'), { waitMs: 50 })).toEqual({ ran: false });
  // Other names are independent.
  expect(await b.runExclusive('other', () => Promise.resolve('b'))).toEqual({ ran: true, value: 'b' });
  const waiting = b.runExclusive('job', () => Promise.resolve('b'), { waitMs: 10_000 });
  held.finish();
  expect(await first).toEqual({ ran: true, value: 'a' });
  expect(await waiting).toEqual({ ran: true, value: 'b' });
}

describe('InProcessLeaderLease', () => {
  it('runs one holder of a name at a time', async () => {
    const lease = new InProcessLeaderLease();
    await holdsOnce(lease, lease);
  });
});

const reason = postgresUnavailableReason();
if (reason) console.warn(`PostgresLeaderLease tests skipped: ${reason}`);

(reason ? describe.skip : describe)('PostgresLeaderLease (two instances on one database)', () => {
  let db: TestDatabase;
  let a: PostgresLeaderLease;
  let b: PostgresLeaderLease;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = new PostgresLeaderLease(db.url);
    b = new PostgresLeaderLease(db.url);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('runs one holder of a name at a time across instances', () => holdsOnce(a, b));

  it('a holder whose process dies loses the lease with its connection', async () => {
    const dying = new PostgresLeaderLease(db.url);
    const held = heldWork();
    const first = dying.runExclusive('crash', held.work);
    await held.running;
    expect(await b.runExclusive('crash', () => Promise.resolve(1))).toEqual({ ran: false });
    // The server ends the holder's connection, as it does when the holder's process is killed.
    const admin = createClient(db.url, { connectTimeoutMs: 5000, queryTimeoutMs: 5000, maxConnections: 1, applicationName: 'test' });
    await admin.connect();
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    await admin.end();
    // Taken over while the dead holder's work has not even finished.
    expect(await b.runExclusive('crash', () => Promise.resolve(1), { waitMs: 5000 })).toEqual({ ran: true, value: 1 });
    held.finish();
    await first.catch(() => undefined);
    await dying.close();
  });
});
