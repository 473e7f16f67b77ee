import { userBody } from '../support/test-server';
import { Cluster, type SharedStore, sharedStores } from './support/cluster';

/** Unique per run: an EventStoreDB node keeps what earlier runs wrote. */
const RUN = Math.random().toString(36).slice(2, 8);

/**
 * RFC 9865 cursors on a multi-instance deployment: the secret that seals them is in the shared
 * log, so a cursor one instance issued opens on any other, even when both created the secret
 * at the same moment.
 */
const STORES = sharedStores('cursor paging across instances');
if (STORES.length === 0) it.skip('cursor paging across instances: no shared store reachable (see the warning above)', () => undefined);

(STORES.length ? describe.each(STORES) : describe.skip.each([['none', undefined as never]]))('cursor paging on two instances of one store (%s)', (_name, createStore) => {
  let store: SharedStore;
  let cluster: Cluster;
  beforeAll(async () => {
    store = await createStore();
    cluster = await Cluster.start(2, store.env);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await store?.drop();
  });

  it('the first cursors of both instances (one secret, created in a race) open on the other; a walk spread over both serves every user once', async () => {
    await cluster.admin(0, 'POST', '/api/v1/groups', { path: `cur-${RUN}`, name: 'Cursor' });
    const auth = await cluster.scimToken(0, `cur-${RUN}`);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await cluster.scim(i % 2, auth).request('POST', '/Users', userBody(`c${String(i).padStart(2, '0')}-${RUN}@example.com`, { emails: [] }))).body.id);
    // Both instances issue their first cursor at once: neither has the secret yet on a fresh store.
    const [a, b] = await Promise.all([0, 1].map((i) => cluster.scim(i, auth).request('GET', '/Users?count=5&cursor=')));
    expect([a.status, b.status]).toEqual([200, 200]);
    const onB = await cluster.scim(1, auth).request('GET', `/Users?count=5&cursor=${a.body.nextCursor}`);
    const onA = await cluster.scim(0, auth).request('GET', `/Users?count=5&cursor=${b.body.nextCursor}`);
    expect([onB.status, onA.status]).toEqual([200, 200]);
    expect(onB.body.Resources.map((u: { id: string }) => u.id)).toEqual(ids.slice(5, 10));
    expect(onA.body.Resources.map((u: { id: string }) => u.id)).toEqual(ids.slice(5, 10));

    const spread = cluster.spread(auth);
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 20; page++) {
      const r = await spread.request('GET', `/Users?count=4&sortBy=userName&cursor=${cursor}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.Resources.map((u: { id: string }) => u.id));
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
    }
    expect(seen).toEqual(ids);
  }, 60_000);
});
