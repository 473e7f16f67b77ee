import { TestServer, userBody } from './support/test-server';

// Every test gets its own server: buckets live for a minute and must start empty.
describe('rate limits by principal', () => {
  let server: TestServer;
  afterEach(() => server.stop());

  /** The statuses of `n` SCIM requests, one after another, with the given Authorization headers. */
  async function statuses(url: string, authorizations: string[]): Promise<number[]> {
    const out: number[] = [];
    for (const authorization of authorizations) out.push((await fetch(url, { headers: { authorization } })).status);
    return out;
  }

  it('counts every spelling of one token (extra spaces, case of the scheme) in one bucket', async () => {
    server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '6' });
    const scim = await server.scim();
    const spellings = [`Bearer ${scim.token}`, `Bearer  ${scim.token}`, `bearer ${scim.token}`, `BEARER ${scim.token}`, `Bearer\t${scim.token}`, `Bearer ${scim.token} `];
    const codes = await statuses(`${scim.base}/Users?count=0`, [...spellings, ...spellings]);
    expect(codes.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(codes.slice(6)).toEqual([429, 429, 429, 429, 429, 429]);
  });

  it('limits requests with invalid tokens (each a different one) and without any by client address', async () => {
    server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '5' });
    const scim = await server.scim();
    const invalid = Array.from({ length: 5 }, (_, i) => `Bearer scimtok_not-a-token-${i}`);
    const codes = await statuses(`${scim.base}/Users`, invalid);
    expect(codes).toEqual([401, 401, 401, 401, 401]);
    const flood = await fetch(`${scim.base}/Users`, { headers: { authorization: 'Bearer scimtok_yet-another' } });
    expect(flood.status).toBe(429);
    expect(Number(flood.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await flood.json()).toMatchObject({ status: '429', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
    expect((await fetch(`${scim.base}/Users`)).status).toBe(429);
    // A valid token has its own bucket: the flood from its address does not stop it.
    expect((await scim.request('GET', '/Users?count=0')).status).toBe(200);
    expect((await server.http('GET', '/health/live')).status).toBe(200);
  });

  it('counts a Bulk request once plus once per operation', async () => {
    server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '6' });
    const scim = await server.scim();
    const ops = Array.from({ length: 4 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: userBody(`bulk${i}@example.com`) }));
    const bulk = await scim.request('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops });
    expect(bulk.status).toBe(200);
    expect(bulk.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '201', '201', '201']);
    // 1 + 4 of 6 spent: one request left, then 429.
    expect((await scim.request('GET', '/Users?count=0')).status).toBe(200);
    expect((await scim.request('GET', '/Users?count=0')).status).toBe(429);
  });
});
