import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { JWTPayload } from 'jose';
import { waitFor } from '@app/testing';
import { PushReceiver, shortUris, verifySet } from '../events/receiver';
import { userBody } from '../support/test-server';
import { Cluster, type SharedStore, sharedStores } from './support/cluster';

const RUN = Math.random().toString(36).slice(2, 8);
const PUSH_ENV = { SET_PUSH_IDLE_MS: '50', SET_PUSH_BASE_BACKOFF_MS: '20', SET_PUSH_MAX_BACKOFF_MS: '100', SET_PUSH_TIMEOUT_MS: '60000' };

/** Log position of a SET from its jti (`<stream>.<position>.<index>`), to check order. */
const positionOf = (jti: unknown) => {
  const [, p, i] = String(jti).split('.');
  return BigInt(p) * 1000n + BigInt(i);
};

/**
 * The process (of `pids`) that owns the loopback TCP socket with local port `port`: which
 * instance a push came from, read from /proc (Linux), so the test kills the lease holder and
 * not a bystander.
 */
function ownerOfPort(port: number, pids: number[]): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[1].endsWith(`:${hex}`)) inodes.add(cols[9]);
    }
  }
  return pids.find((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m !== null && inodes.has(m[1]);
      });
    } catch {
      return false;
    }
  });
}

/**
 * SCIM event delivery on two instances of one PostgreSQL store (real processes): push runs
 * under the `set-push` advisory lock, so `kill -9` of the holder in the middle of a push hands
 * it to the other instance, which resumes from the progress in the log; poll state is in the
 * log too, so any instance serves and acknowledges any stream.
 */
const STORES = sharedStores('SET delivery across instances', { postgresOnly: 'the set-push lease is a PostgreSQL advisory lock (EventStoreDB has no locks)' });
if (STORES.length === 0) it.skip('SET delivery across instances: no PostgreSQL reachable (see the warning above)', () => undefined);

(STORES.length ? describe.each(STORES) : describe.skip.each([['none', undefined as never]]))('SET delivery on two instances of one store (%s)', (_name, createStore) => {
  let store: SharedStore;
  let cluster: Cluster;
  const receiver = new PushReceiver(0);
  beforeAll(async () => {
    store = await createStore();
    cluster = await Cluster.start(2, store.env, PUSH_ENV);
  }, 120_000);
  afterAll(async () => {
    await receiver.down();
    await cluster?.stop();
    await store?.drop();
  });

  it('kill -9 of the instance pushing: the other takes over, every SET arrives once by jti, in log order', async () => {
    Object.assign(receiver, { port: await PushReceiver.freePort() });
    await receiver.up();
    const auth = await cluster.scimToken(0);
    const created = await cluster.scim(0, auth).request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url } });
    expect(created.status).toBe(201);

    // Every answer a little slow, so pushes are under way while the writes go on; the tenth
    // SET is held for long: whoever sends it holds the lease, and is killed while it waits.
    const HELD = 10;
    const firstSeen: string[] = [];
    let held: { jti: string; port: number } | undefined;
    receiver.answer = (claims, req) => {
      const jti = String(claims.jti);
      if (!firstSeen.includes(jti)) firstSeen.push(jti);
      if (firstSeen.length === HELD && firstSeen[HELD - 1] === jti && !held) {
        held = { jti, port: req.socket.remotePort as number };
        return { status: 202, delayMs: 3000 };
      }
      return { status: 202, delayMs: 30 };
    };

    const spread = cluster.spread(auth);
    const ids: string[] = [];
    for (let n = 0; n < 24; n++) {
      const r = await spread.request('POST', '/Users', userBody(`push${n}-${RUN}@example.com`, { emails: [] }));
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    await waitFor(() => held !== undefined, { timeoutMs: 30_000, what: 'the held SET in flight' });
    const pids = cluster.nodes.map((node) => node.process.pid as number);
    const holder = cluster.nodes.findIndex((node) => node.process.pid === ownerOfPort((held as { port: number }).port, pids));
    expect(holder).toBeGreaterThanOrEqual(0);
    await cluster.kill(holder);
    const survivor = 1 - holder;

    // Writes go on through the survivor alone.
    for (let n = 24; n < 30; n++) ids.push((await cluster.scim(survivor, auth).request('POST', '/Users', userBody(`push${n}-${RUN}@example.com`, { emails: [] }))).body.id);

    const distinct = () => [...new Map(receiver.received.map((x) => [String(x.claims.jti), x])).values()];
    await waitFor(() => distinct().length >= ids.length, { timeoutMs: 60_000, what: `all ${ids.length} SETs pushed` });
    // The held SET comes twice: re-sent by the survivor (the killed instance never recorded it
    // as delivered), and the killed instance's own request, which the receiver accepts once its delay ends.
    await waitFor(() => receiver.received.filter((x) => x.claims.jti === held?.jti).length === 2, { timeoutMs: 10_000, what: 'the held SET twice' });

    const firsts = distinct();
    expect(firsts.map((x) => (x.claims.sub_id as { uri: string }).uri)).toEqual(ids.map((id) => `/Users/${id}`));
    const order = firsts.map((x) => positionOf(x.claims.jti));
    expect([...order].sort((a, b) => (a < b ? -1 : 1))).toEqual(order);
    // Duplicates are re-sends of the same jti only, and few: the SET in flight at the kill.
    expect(receiver.received.length - firsts.length).toBeLessThanOrEqual(2);
    // Both instances pushed (the survivor took over), and every SET verifies against the JWKS
    // the survivor serves, the killed instance's key included.
    const jwks = `${cluster.url(survivor)}/api/ssf/jwks.json`;
    const issuer = `http://scim.example.test${auth.path}`;
    const claims: JWTPayload[] = [];
    for (const r of firsts) claims.push(await verifySet(r.token, jwks, { issuer, audience: created.body.aud }));
    expect(claims.map(shortUris)).toEqual(ids.map(() => ['prov:create:notice']));
    const status = await cluster.scim(survivor, auth).request('GET', `/ssf/status?stream_id=${created.body.stream_id}`);
    expect(status.body.delivery_health.failing).toBe(false);

    // Nothing more comes: the progress in the log covers every SET.
    const total = receiver.received.length;
    await cluster.restart(holder);
    const more = await cluster.scim(holder, auth).request('POST', '/Users', userBody(`push-last-${RUN}@example.com`, { emails: [] }));
    await waitFor(() => receiver.received.some((x) => (x.claims.sub_id as { uri: string }).uri === `/Users/${more.body.id}`), { timeoutMs: 20_000, what: 'the last SET' });
    expect(receiver.received.slice(total).map((x) => (x.claims.sub_id as { uri: string }).uri)).toEqual([`/Users/${more.body.id}`]);
  }, 180_000);

  it('a poll stream created on one instance is served and acknowledged on the other', async () => {
    const auth = await cluster.scimToken(0);
    const onA = cluster.scim(0, auth);
    const stream = (await onA.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' } })).body;
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) ids.push((await cluster.scim(n % 2, auth).request('POST', '/Users', userBody(`poll${n}-${RUN}@example.com`, { emails: [] }))).body.id);

    const path = new URL(stream.delivery.endpoint_url).pathname;
    const poll = async (i: number, body: unknown) => {
      const r = await fetch(`${cluster.url(i)}${path}`, { method: 'POST', headers: { authorization: `Bearer ${auth.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status).toBe(200);
      return (await r.json()) as { sets: Record<string, string>; moreAvailable: boolean };
    };
    const uris = (sets: Record<string, string>) => Object.keys(sets).length;
    let onB: Record<string, string> = {};
    await waitFor(async () => uris((onB = (await poll(1, { returnImmediately: true })).sets)) >= ids.length, { timeoutMs: 20_000, what: 'every SET on B' });
    // A serves the same SETs (same jti; signed with A's own key).
    let fromA: Record<string, string> = {};
    await waitFor(async () => uris((fromA = (await poll(0, { returnImmediately: true })).sets)) >= ids.length, { timeoutMs: 20_000, what: 'every SET on A' });
    expect(Object.keys(fromA)).toEqual(Object.keys(onB));
    const issuer = `http://scim.example.test${auth.path}`;
    for (const token of Object.values(onB)) {
      const c = await verifySet(token, `${cluster.url(0)}/api/ssf/jwks.json`, { issuer, audience: stream.aud });
      expect(shortUris(c)).toEqual(['prov:create:notice']);
    }
    expect(Object.values(onB).map((t) => (JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).sub_id as { uri: string }).uri)).toEqual(ids.map((id) => `/Users/${id}`));

    // Acknowledged on B: A redelivers nothing.
    expect(await poll(1, { returnImmediately: true, maxEvents: 0, ack: Object.keys(onB) })).toEqual({ sets: {}, moreAvailable: false });
    expect(await poll(0, { returnImmediately: true })).toEqual({ sets: {}, moreAvailable: false });
  }, 60_000);
});
