import { createServer, type Server, type Socket, connect } from 'node:net';
import { freePort } from '../support/child-server';
import { waitFor } from '@app/testing';
import { userBody } from '../support/test-server';
import { allUsers, Cluster, type SharedStore, sharedStores } from './support/cluster';

/**
 * A TCP proxy between the servers and the store, which the test cuts (listener closed, every
 * connection reset) and restores on the same port: the store goes away and comes back
 * without anyone restarting anything.
 */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
  }
}

const STORES = sharedStores('store outage proof', { postgresOnly: 'the proxy rewrites a PostgreSQL URL only' });
if (STORES.length === 0) it.skip('store outage proof: no PostgreSQL reachable (see the warning above)', () => undefined);

(STORES.length ? describe.each(STORES) : describe.skip.each([['none', undefined as never]]))('the store goes away and comes back (%s)', (_name, createStore) => {
  let store: SharedStore;
  let proxy: CuttableProxy;
  let cluster: Cluster;
  beforeAll(async () => {
    store = await createStore();
    const url = new URL(store.databaseUrl as string);
    proxy = new CuttableProxy(await freePort(), { host: url.hostname, port: Number(url.port || 5432) });
    await proxy.open();
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    cluster = await Cluster.start(2, { ...store.env, DATABASE_URL: url.toString() });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await proxy?.cut();
    await store?.drop();
  });

  it('fast 503s while it is away, recovery without a restart, no event lost or applied twice', async () => {
    const auth = await cluster.scimToken(0);
    const acked = new Map<string, string>();
    const post = async (i: number, userName: string) => {
      const r = await cluster.scim(i, auth).request('POST', '/Users', userBody(userName));
      if (r.status === 201) acked.set(userName, r.body.id);
      return r;
    };
    for (let k = 0; k < 10; k++) expect((await post(k % 2, `before${k}@example.com`)).status).toBe(201);

    await proxy.cut();
    for (let k = 0; k < 6; k++) {
      const i = k % 2;
      const started = Date.now();
      const [write, read] = await Promise.all([post(i, `during${k}@example.com`), cluster.scim(i, auth).request('GET', '/Users?count=5')]);
      expect([write.status, read.status]).toEqual([503, 503]);
      expect(Date.now() - started).toBeLessThan(5000);
    }
    expect((await fetch(`${cluster.url(0)}/health/ready`)).status).toBe(503);

    await proxy.open();
    // Each instance recovers by itself: poll until a write through it is acknowledged.
    for (const i of [0, 1]) {
      let k = 0;
      await waitFor(
        async () => {
          const r = await post(i, `after${i}-${k++}@example.com`);
          if (r.status !== 201) expect(r.status).toBe(503);
          return r.status === 201;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: `a write through instance ${i} to be acknowledged` },
      );
    }
    for (let k = 0; k < 10; k++) expect((await post(k % 2, `later${k}@example.com`)).status).toBe(201);

    // Nothing written during the outage, everything acknowledged present once, both instances
    // equal, and an instance built from the log alone equal to them (no event applied twice).
    const fresh = await cluster.add();
    const views = await Promise.all([0, 1, fresh].map((i) => allUsers(cluster.scim(i, auth))));
    expect(views[0].map((u) => u.userName).sort()).toEqual([...acked.keys()].sort());
    for (const u of views[0]) expect(acked.get(u.userName)).toBe(u.id);
    expect(views[1]).toEqual(views[0]);
    expect(views[2]).toEqual(views[0]);
    for (const i of [0, 1, fresh]) expect((await cluster.admin(i, 'GET', '/api/v1/audit/verification')).body.ok).toBe(true);
  }, 180_000);
});
