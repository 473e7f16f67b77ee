import { TestServer, userBody } from './support/test-server';

describe('provisioning health (GET /api/v1/audit/health)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterAll(() => server.stop());

  it('counts requests and refusals per scope and token, ranks reasons, and finds the same refusal coming back', async () => {
    await server.createGroup('acme');
    const okta = await server.scim('acme');
    const alice = await okta.request('POST', '/Users', userBody('alice@acme.test'));
    expect(alice.status).toBe(201);
    // The IdP keeps retrying a create the server refuses (userName taken): a retry loop.
    for (let i = 0; i < 4; i++) expect((await okta.request('POST', '/Users', userBody('alice@acme.test'))).status).toBe(409);
    // One stray refusal of another kind is not a loop.
    expect((await okta.request('GET', '/Users?filter=bogus')).status).toBe(400);

    const res = await server.admin('GET', '/api/v1/audit/health?buckets=12');
    expect(res.status).toBe(200);
    const acme = res.body.sources.find((s: { scopeName: string }) => s.scopeName === 'group acme');
    expect(acme).toMatchObject({ totalRequests: 6, totalRefusals: 5 });
    expect(acme.requests).toHaveLength(12);
    expect(acme.reasons[0]).toMatchObject({ status: 409, count: 4 });
    expect(res.body.loops).toHaveLength(1);
    expect(res.body.loops[0]).toMatchObject({ method: 'POST', resource: 'Users', count: 4, accountId: expect.any(String) });
    const memberships = await server.admin('GET', `/api/v1/accounts/${res.body.loops[0].accountId}/memberships`);
    expect(memberships.body.account.username).toBeDefined();
  });

  it('refuses a window it cannot answer cheaply, and support tokens', async () => {
    expect((await server.admin('GET', '/api/v1/audit/health?since=2020-01-01T00:00:00Z&until=2021-01-01T00:00:00Z')).status).toBe(400);
    expect((await server.admin('GET', '/api/v1/audit/health?buckets=0')).status).toBe(400);
    const support = await server.admin('POST', '/api/v1/tokens', { role: 'support' });
    expect((await server.http('GET', '/api/v1/audit/health', { token: support.body.token })).status).toBe(403);
  });
});
