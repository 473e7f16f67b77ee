import { type ScimClient, TestServer } from '../support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Okta's provisioning flow: look-up, create, profile push by PUT, deactivate, re-assign, import. */
describe('Okta user lifecycle', () => {
  let server: TestServer;
  let scim: ScimClient;
  let user: Record<string, any>;
  const login = 'isaac.brock@okta.example';
  const oktaId = '00u1abcdEFGH2345';
  const headers = { 'user-agent': 'Okta SCIM Client 1.0.0' };

  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
  });
  afterAll(() => server.stop());

  it('filters on userName before creating, then creates', async () => {
    const miss = await scim.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${login}"`)}&startIndex=1&count=100`, undefined, headers);
    expect(miss.body.totalResults).toBe(0);
    const r = await scim.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: login,
      externalId: oktaId,
      name: { givenName: 'Isaac', familyName: 'Brock' },
      emails: [{ primary: true, value: login, type: 'work' }],
      displayName: 'Isaac Brock',
      locale: 'en-US',
      groups: [],
      password: 'Pa55w0rd!',
      active: true,
    }, headers);
    expect(r.status).toBe(201);
    user = r.body;
  });

  it('pushes a profile update with PUT, echoing id, meta and groups', async () => {
    const r = await scim.request('PUT', `/Users/${user.id}`, { ...user, name: { givenName: 'Isaac', familyName: 'Brock-Smith' }, groups: [] }, headers);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: user.id, name: { familyName: 'Brock-Smith' }, active: true });
    user = r.body;
  });

  it('deactivates with a pathless replace, and reactivates keeping the same id', async () => {
    const off = await scim.request('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }, headers);
    expect(off.body.active).toBe(false);
    const on = await scim.request('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] }, headers);
    expect(on.body).toMatchObject({ id: user.id, active: true });
  });

  it('after an unassignment (deactivation), a re-assignment POST brings back the same id', async () => {
    await scim.request('PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }, headers);
    const again = await scim.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: login,
      externalId: oktaId,
      name: { givenName: 'Isaac', familyName: 'Brock' },
      emails: [{ primary: true, value: login, type: 'work' }],
      active: true,
    }, headers);
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ id: user.id, active: true, name: { familyName: 'Brock' } });
  });

  it('imports 250 users in pages of 100 without skipping or repeating', async () => {
    for (let i = 0; i < 250; i++) {
      const r = await scim.request('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `import${i}@okta.example`, name: { givenName: 'I', familyName: String(i) } });
      expect(r.status).toBe(201);
    }
    const seen: string[] = [];
    let total: number | undefined;
    for (let start = 1; ; start += 100) {
      const page = await scim.request('GET', `/Users?startIndex=${start}&count=100`, undefined, headers);
      expect(page.status).toBe(200);
      total = page.body.totalResults as number;
      expect(page.body.startIndex).toBe(start);
      expect(page.body.itemsPerPage).toBe(page.body.Resources.length);
      seen.push(...page.body.Resources.map((u: { id: string }) => u.id));
      if (page.body.Resources.length < 100) break;
    }
    expect(total).toBe(251);
    expect(seen).toHaveLength(251);
    expect(new Set(seen).size).toBe(251);
  });
});
