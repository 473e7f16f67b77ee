import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from './support/child-server';
import { type ScimClient, TestServer, userBody } from './support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('security', () => {
  describe('limits', () => {
    let server: TestServer;
    let scim: ScimClient;
    beforeAll(async () => {
      server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '20', MAX_PAYLOAD_BYTES: '2048' });
      scim = await server.scim();
    });
    afterAll(() => server.stop());

    it('refuses a body over MAX_PAYLOAD_BYTES with 413 and a SCIM error', async () => {
      const r = await scim.request('POST', '/Users', userBody('big@example.com', { title: 'x'.repeat(4000) }));
      expect(r.status).toBe(413);
      expect(r.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '413' });
      const spc = await scim.request('GET', '/ServiceProviderConfig');
      expect(spc.body.bulk.maxPayloadSize).toBe(2048);
    });

    it('rate-limits per token with 429, Retry-After and a SCIM error; other tokens are unaffected', async () => {
      let limited;
      for (let i = 0; i < 30 && !limited; i++) {
        const r = await scim.request('GET', '/Users?count=0');
        if (r.status === 429) limited = r;
      }
      expect(limited).toBeDefined();
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited!.body).toMatchObject({ status: '429', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
      expect((await server.http('GET', '/health/live')).status).toBe(200);
    });
  });

  describe('isolation, headers and roles', () => {
    let server: TestServer;
    let a: ScimClient;
    let b: ScimClient;
    let userA: string;
    let groupA: string;
    beforeAll(async () => {
      server = await TestServer.start();
      await server.createGroup('iso-a');
      await server.createGroup('iso-b');
      a = await server.scim('iso-a');
      b = await server.scim('iso-b');
      userA = (await a.request('POST', '/Users', userBody('a-user@iso.test'))).body.id;
      groupA = (await a.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'A only', members: [{ value: userA }] })).body.id;
    });
    afterAll(() => server.stop());

    it("B's token on every route of A's base is 401, identical to a missing group", async () => {
      const routes: [string, string, unknown?][] = [
        ['GET', '/Users'],
        ['POST', '/Users', userBody('x@iso.test')],
        ['GET', `/Users/${userA}`],
        ['PUT', `/Users/${userA}`, userBody('x@iso.test')],
        ['PATCH', `/Users/${userA}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }],
        ['DELETE', `/Users/${userA}`],
        ['POST', '/Users/.search', { filter: 'userName pr' }],
        ['GET', '/Groups'],
        ['GET', `/Groups/${groupA}`],
        ['PATCH', `/Groups/${groupA}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members' }] }],
        ['DELETE', `/Groups/${groupA}`],
        ['POST', '/.search', { filter: 'userName pr' }],
        ['POST', '/Bulk', { Operations: [] }],
        ['GET', '/ServiceProviderConfig'],
        ['GET', '/ResourceTypes'],
        ['GET', '/Schemas'],
        ['GET', '/Me'],
      ];
      const missing = await server.http('GET', `${server.url}/api/scim/v2/groups/does-not-exist/Users`, { token: b.token });
      for (const [method, path, body] of routes) {
        const r = await server.http(method, `${a.base}${path}`, { token: b.token, body });
        expect({ route: `${method} ${path}`, status: r.status }).toEqual({ route: `${method} ${path}`, status: 401 });
        expect(r.body).toEqual(missing.body);
      }
      // And through B's own base, A's resources do not exist.
      for (const path of [`/Users/${userA}`, `/Groups/${groupA}`]) expect((await b.request('GET', path)).status).toBe(404);
      expect((await b.request('GET', '/Users')).body.totalResults).toBe(0);
      // A's data is untouched.
      expect((await a.request('GET', `/Groups/${groupA}`)).body.members).toHaveLength(1);
      // A management token is not a SCIM token, and a SCIM token is not a management token.
      expect((await server.http('GET', `${a.base}/Users`, { token: 'test-admin-token-0123456789abcdef' })).status).toBe(401);
      expect((await server.http('GET', '/api/v1/groups', { token: a.token })).status).toBe(401);
    });

    it('sends security headers and no stack traces; errors carry a request id', async () => {
      const r = await a.request('GET', `/Users?filter=${encodeURIComponent('bad eq')}`);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-request-id')).toMatch(/.+/);
      expect(r.text).not.toMatch(/\bat .*\.(js|ts):\d+/);
      const traced = await a.request('GET', '/Users', undefined, { 'x-request-id': 'trace-me-123' });
      expect(traced.headers.get('x-request-id')).toBe('trace-me-123');
    });

    it('publishes metrics and the OpenAPI document of the management API', async () => {
      const metrics = await server.http('GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('http_request_duration_seconds_bucket');
      expect(metrics.text).toContain('events_appended_total');
      expect(metrics.text).toMatch(/projection_lag_events\{projection="scim-users"\} \d+/);
      const doc = await server.http('GET', '/api/docs/openapi.json');
      expect(doc.status).toBe(200);
      expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/groups', '/api/v1/scim/tokens', '/api/v1/tokens']));
      expect(Object.keys(doc.body.paths).every((p: string) => p.startsWith('/api/v1/'))).toBe(true);
    });
  });

  describe('logs', () => {
    it('JSON logs at info level carry request ids but no personal data or secrets', async () => {
      const admin = 'logs-admin-token-0123456789';
      const server = await ChildServer.start({ DATA_DIR: mkdtempSync(join(tmpdir(), 'scim-logs-')), ADMIN_TOKEN: admin, LOG_LEVEL: 'info' });
      const token = (
        (await (await fetch(`${server.url}/api/v1/scim/tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{"scope":"application"}' })).json()) as { scim_token: string }
      ).scim_token;
      const base = `${server.url}/api/scim/v2/application`;
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };
      await fetch(`${base}/Users`, { method: 'POST', headers, body: JSON.stringify(userBody('very.private.person@example.com', { externalId: 'PRIVATE-EXT' })) });
      await fetch(`${base}/Users?filter=${encodeURIComponent('userName eq "very.private.person@example.com"')}`, { headers });
      await fetch(`${base}/Users`, { method: 'POST', headers, body: JSON.stringify(userBody('very.private.person@example.com')) });
      await server.kill('SIGTERM');
      const logs = server.logs;
      expect(logs).toMatch(/"reqId"|"req":\{/);
      for (const secret of ['very.private.person', 'PRIVATE-EXT', token, admin]) expect(logs).not.toContain(secret);
    }, 60_000);
  });
});
