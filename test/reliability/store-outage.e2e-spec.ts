import { freePort } from '../support/child-server';
import { ADMIN_TOKEN, TestServer } from '../support/test-server';

/**
 * A remote store (EventStoreDB, PostgreSQL) unreachable (a closed port): the server still starts, says it is not ready,
 * and answers requests quickly with 503 and an error body instead of hanging or crashing.
 * It keeps retrying in the background, so it recovers by itself when the store is back.
 */
describe.each([
  ['EventStoreDB', (port: number) => ({ EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${port}?tls=false` })],
  ['PostgreSQL', (port: number) => ({ EVENT_STORE: 'postgres', DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` })],
])('store outage (%s mode, closed port)', (_store, storeEnv) => {
  let server: TestServer;
  beforeAll(async () => {
    const port = await freePort();
    server = await TestServer.start(storeEnv(port), undefined, { waitUntilReady: false });
  }, 30_000);
  afterAll(() => server.stop());

  it('answers 503 fast on readiness, SCIM and management routes', async () => {
    const timed = async (f: () => Promise<{ status: number; body: any }>) => {
      const started = Date.now();
      const r = await f();
      return { ...r, ms: Date.now() - started };
    };
    const ready = await timed(() => server.http('GET', '/health/ready'));
    expect(ready.status).toBe(503);
    expect((await server.http('GET', '/health/live')).status).toBe(200);

    const scim = await timed(() => server.http('GET', `${server.url}/api/scim/v2/application/Users`, { token: 'scimtok_anything' }));
    expect(scim.status).toBe(503);
    expect(scim.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });

    const mgmt = await timed(() => server.http('POST', '/api/v1/groups', { token: ADMIN_TOKEN, body: { path: 'down', name: 'Down' }, headers: { 'content-type': 'application/json' } }));
    expect(mgmt.status).toBe(503);
    for (const r of [ready, scim, mgmt]) expect(r.ms).toBeLessThan(5000);
  }, 30_000);
});
