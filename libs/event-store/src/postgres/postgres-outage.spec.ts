import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { StoreUnavailableError } from '../errors';
import type { EventData, RecordedEvent, Subscription } from '../event-store.port';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '../testing/postgres-test-database';
import { PostgresEventStore, mapError } from './postgres-event-store';
import { waitFor } from '@app/testing';

const unavailable = postgresUnavailableReason();
const ev = (type: string, data: EventData['data'] = {}): EventData => ({ id: randomUUID(), type, data });

/** A TCP proxy in front of PostgreSQL that a test can cut (refusing connections, dropping open ones) and restore. */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

describe('PostgreSQL error mapping', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a query timeout', new Error('Query read timeout')],
  ])('maps %s to StoreUnavailableError, keeping the cause', (_label, cause) => {
    const err = mapError(cause);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).cause).toBe(cause);
  });

  it('passes other errors through unchanged', () => {
    const other = new TypeError('bug');
    expect(mapError(other)).toBe(other);
  });
});

describe('PostgreSQL event store without a server', () => {
  it('fails fast with StoreUnavailableError when nothing listens (the HTTP layer answers 503)', async () => {
    const store = new PostgresEventStore('postgres://postgres:postgres@127.0.0.1:1/postgres');
    const started = Date.now();
    try {
      await expect(store.migrate()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.append(`outage-${randomUUID()}`, [ev('T')], 'any')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.readStream('anything')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await store.close();
    }
  });
});

if (unavailable === undefined) {
  describe('PostgreSQL event store through a connection that is cut and restored', () => {
    let db: TestDatabase;
    let proxy: CuttableProxy;
    let direct: PostgresEventStore;
    let proxied: PostgresEventStore;

    beforeAll(async () => {
      db = await createTestDatabase();
      const target = new URL(db.url);
      proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
      await proxy.open();
      const viaProxy = new URL(db.url);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      direct = new PostgresEventStore(db.url);
      proxied = new PostgresEventStore(viaProxy.toString(), { pollIntervalMs: 200, connectTimeoutMs: 1000 });
      await direct.migrate();
    });
    afterAll(async () => {
      await proxied?.close();
      await direct?.close();
      await proxy?.close();
      await db?.drop();
    });

    it('answers 503 fast while cut, recovers without a restart, and its subscription resumes with nothing lost or twice', async () => {
      const s = `cut-${randomUUID()}`;
      const written: string[] = [];
      const write = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const e = ev('Written', { i: written.length });
          await direct.append(s, [e], 'any');
          written.push(e.id);
        }
      };
      await write(5);
      const received: RecordedEvent[] = [];
      const sub = proxied.subscribeToAll({ filter: { streamPrefixes: [s] } });
      const loop = consume(sub, received);
      await until(() => received.length === 5 && proxied.isListening, loop);

      await proxy.cut();
      const started = Date.now();
      await expect(proxied.append(`${s}-x`, [ev('Refused')], 'any')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(proxied.readStream(s)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
      // The log moves on while this instance cannot see it.
      await write(10);

      await proxy.open();
      await until(() => received.length >= 15, loop);
      // Appends through the restored connection work again, and reach the subscriber once.
      const after = ev('AfterRestore');
      await proxied.append(s, [after], 'any');
      written.push(after.id);
      await until(() => received.length >= 16, loop);
      await until(() => proxied.isListening, loop);

      await sub.unsubscribe();
      await loop;
      expect(received.map((e) => e.id)).toEqual(written);
      const positions = received.map((e) => e.position);
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    }, 30_000);
  });
} else {
  console.warn(`PostgreSQL outage tests skipped: ${unavailable}`);
  describe('PostgreSQL event store through a connection that is cut and restored', () => {
    it.skip(`skipped: ${unavailable}`, () => undefined);
  });
}

async function consume(sub: Subscription, into: RecordedEvent[]): Promise<void> {
  for await (const m of sub) if (m.kind === 'event') into.push(m.event);
}

/** Waits for `condition`, failing early if the subscription loop died. */
async function until(condition: () => boolean, loop: Promise<void>, ms = 15_000): Promise<void> {
  let failure: unknown;
  let ended = false;
  void loop.then(
    () => (ended = true),
    (err: unknown) => (failure = err),
  );
  await waitFor(
    () => {
      if (condition()) return true;
      if (failure) throw failure;
      if (ended) throw new Error('the subscription ended');
      return false;
    },
    { timeoutMs: ms, intervalMs: 20 },
  );
}
