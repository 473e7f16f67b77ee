import pg from 'pg';
import { waitFor } from '@app/testing';
import { userBody } from '../support/test-server';
import { Cluster, type SharedStore, sharedStores } from './support/cluster';

const RUN = Math.random().toString(36).slice(2, 8);

/**
 * RFC 9967 §2.5 on two instances of one store: A accepts an asynchronous request (202) and is
 * `kill -9`ed before it runs it (ASYNC_REQUEST_FAULT=hold); B, once the grace for a live
 * instance has passed, completes it exactly once, and answers its outcome at the Location.
 */
const STORES = sharedStores('async request recovery across instances', { postgresOnly: 'the test counts completions in the database with SQL' });
if (STORES.length === 0) it.skip('async request recovery across instances: no PostgreSQL reachable (see the warning above)', () => undefined);

(STORES.length ? describe.each(STORES) : describe.skip.each([['none', undefined as never]]))('an async request of a killed instance (%s)', (_name, createStore) => {
  let store: SharedStore;
  let cluster: Cluster;
  beforeAll(async () => {
    store = await createStore();
    cluster = await Cluster.start(
      2,
      store.env,
      // B takes another instance's request after 2 s (the time A had to finish it).
      { ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '100', ASYNC_REQUEST_ORPHAN_AFTER_MS: '2000' },
      // A accepts but never runs (as if it died right after the 202), nor recovers.
      [{ ASYNC_REQUEST_FAULT: 'hold', ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '0' }],
    );
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await store?.drop();
  });

  /** Events of a type in an async request's stream, counted in the shared database itself. */
  const countInStream = async (txn: string, type: string): Promise<number> => {
    const client = new pg.Client({ connectionString: store.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM scim_events WHERE stream_id = $1 AND type = $2', [`async-request-${txn}`, type]);
      return rows[0]!.n;
    } finally {
      await client.end();
    }
  };

  it('B completes the single POST and the Bulk that A accepted, once each, and answers their outcome', async () => {
    const auth = await cluster.scimToken(0);
    const post = (i: number, path: string, body: unknown) =>
      fetch(`${cluster.url(i)}${auth.path}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth.token}`, 'content-type': 'application/scim+json', prefer: 'respond-async' },
        body: JSON.stringify(body),
      });
    /** The Location (behind the load balancer's PUBLIC_URL) asked of instance `i`. */
    const outcome = async (i: number, location: string) => {
      const r = await fetch(`${cluster.url(i)}${new URL(location).pathname}`, { headers: { authorization: `Bearer ${auth.token}` } });
      return { status: r.status, body: r.status === 200 ? ((await r.json()) as { Operations: any[] }) : undefined };
    };

    const single = await post(0, '/Users', userBody(`async-a-${RUN}@example.com`));
    const bulk = await post(0, '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u', data: userBody(`async-b-${RUN}@example.com`) },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `async-${RUN}`, members: [{ value: 'bulkId:u' }] } },
      ],
    });
    expect([single.status, bulk.status]).toEqual([202, 202]);
    const locations = [single.headers.get('location')!, bulk.headers.get('location')!];
    // Accepted durably: B already sees both, pending.
    expect((await outcome(1, locations[0])).status).toBe(202);
    expect((await outcome(1, locations[1])).status).toBe(202);
    await cluster.kill(0);

    const [done, bulkDone] = await Promise.all(
      locations.map((location) =>
        waitFor(
          async () => {
            const r = await outcome(1, location);
            return r.status === 200 ? r.body : undefined;
          },
          { timeoutMs: 30_000, what: `the outcome at ${location} on B` },
        ),
      ),
    );
    expect(done.Operations).toEqual([{ method: 'POST', status: '201', location: expect.stringContaining('/Users/'), version: expect.stringMatching(/^W\//) }]);
    expect(bulkDone.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '201']);

    const b = cluster.scim(1, auth);
    const named = async (userName: string) => (await b.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body;
    const a = await named(`async-a-${RUN}@example.com`);
    expect(a.totalResults).toBe(1);
    expect(done.Operations[0].location).toBe(a.Resources[0].meta.location);
    expect((await named(`async-b-${RUN}@example.com`)).totalResults).toBe(1);
    const group = await b.request('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "async-${RUN}"`)}`);
    expect(group.body.totalResults).toBe(1);
    expect(group.body.Resources[0].members.map((m: { value: string }) => m.value)).toEqual([bulkDone.Operations[0].location.split('/').pop()]);

    // One outcome each in the log: B ran each once (the lease), and nothing else completed them.
    for (const location of locations) {
      const txn = new URL(location).pathname.split('/').pop()!;
      expect(await countInStream(txn, 'AsyncRequestCompleted')).toBe(1);
    }
  }, 90_000);
});
