import { type ScimClient, TestServer, userBody } from './support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;

/** Issue 12, items 5 (identifiers compared as people read them) and 8 (protocol gaps). */
describe('identifiers and protocol gaps', () => {
  let server: TestServer;
  let scim: ScimClient;
  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
  });
  afterAll(() => server.stop());

  describe('one fold for uniqueness and eq', () => {
    it.each([
      ['full-width letters', 'ｆｕｌｌ@example.com', 'full@example.com'],
      ['ß and ss', 'strasse@example.com', 'STRAßE@example.com'],
      ['final sigma', 'όσοσ', 'ΌΣΟΣ'],
      ['a combining caron and ǰ', '\u01F0ohn', 'J\u030Cohn'],
      ['surrounding spaces', 'spacey', '  spacey '],
    ])('%s: the second spelling is a 409, and eq with it finds the first', async (_name, first, second) => {
      const created = await scim.request('POST', '/Users', userBody(first, { emails: [] }));
      expect(created.status).toBe(201);
      const dup = await scim.request('POST', '/Users', userBody(second, { emails: [] }));
      expect(dup.status).toBe(409);
      const found = await scim.request('GET', q(`userName eq "${second}"`));
      expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    });

    it('externalId: the value a 409 calls taken is found by externalId eq as the IdP sent it', async () => {
      const created = await scim.request('POST', '/Users', userBody('ext-case@example.com', { externalId: 'AbC-123' }));
      expect(created.status).toBe(201);
      const dup = await scim.request('POST', '/Users', userBody('ext-case2@example.com', { externalId: 'abc-123' }));
      expect(dup.status).toBe(409);
      const found = await scim.request('GET', q('externalId eq "abc-123"'));
      expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([created.body.id]);
    });

    it.each([
      ['a zero-width space', 'zero\u200Bwidth@example.com'],
      ['a soft hyphen', 'soft\u00ADhyphen@example.com'],
      ['a BOM', '\uFEFFbom@example.com'],
      ['NUL', 'nul\u0000@example.com'],
      ['a lone surrogate', 'lone\uD800@example.com'],
    ])('a userName with %s is refused with 400 invalidValue, changing nothing', async (_name, userName) => {
      const before = (await scim.request('GET', '/Users?count=0')).body.totalResults;
      const r = await scim.request('POST', '/Users', userBody(userName, { emails: [] }));
      expect(r.status).toBe(400);
      expect(r.body.scimType).toBe('invalidValue');
      expect((await scim.request('GET', '/Users?count=0')).body.totalResults).toBe(before);
    });

    it('group displayName: look-alikes are one name, found by displayName eq', async () => {
      const g = await scim.request('POST', '/Groups', { displayName: 'Straße Team' });
      expect(g.status).toBe(201);
      expect((await scim.request('POST', '/Groups', { displayName: 'STRASSE TEAM' })).status).toBe(409);
      const found = await scim.request('GET', `/Groups?filter=${encodeURIComponent('displayName eq "strasse team"')}`);
      expect(found.body.Resources.map((r: { id: string }) => r.id)).toEqual([g.body.id]);
    });
  });

  describe('protocol gaps', () => {
    it('/Me answers 501 with a SCIM error for every method', async () => {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        const r = await scim.request(method, '/Me', method === 'GET' || method === 'DELETE' ? undefined : {});
        expect([method, r.status]).toEqual([method, 501]);
        expect(r.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
      }
    });

    it('resource endpoints are matched case-insensitively', async () => {
      const u = await scim.request('POST', '/users', userBody('lower-case@example.com'));
      expect(u.status).toBe(201);
      expect((await scim.request('GET', `/USERS/${u.body.id}`)).status).toBe(200);
      expect((await scim.request('GET', '/groups')).status).toBe(200);
      expect((await scim.request('GET', '/serviceproviderconfig')).status).toBe(200);
      expect((await scim.request('GET', '/schemas')).status).toBe(200);
      expect((await scim.request('GET', '/resourcetypes')).status).toBe(200);
    });

    it('POST /.search at the base lists Users and Groups', async () => {
      await scim.request('POST', '/Groups', { displayName: 'search-group' });
      const all = await scim.request('POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1000 });
      expect(all.status).toBe(200);
      const types = new Set(all.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType));
      expect(types).toEqual(new Set(['User', 'Group']));
      expect(all.body.totalResults).toBe(all.body.Resources.length);
      const groupsOnly = await scim.request('POST', '/.search', { filter: 'displayName eq "search-group"' });
      expect(groupsOnly.body.Resources.map((r: { displayName: string }) => r.displayName)).toContain('search-group');
    });

    it('a PATCH whose path is the extension URN alone applies the extension object', async () => {
      const u = (await scim.request('POST', '/Users', userBody('ext-patch@example.com'))).body;
      const r = await scim.request('PATCH', `/Users/${u.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: ENT, value: { department: 'R&D', employeeNumber: '42' } }],
      });
      expect(r.status).toBe(200);
      expect(r.body[ENT]).toMatchObject({ department: 'R&D', employeeNumber: '42' });
      const removed = await scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: ENT }] });
      expect(removed.body[ENT]).toBeUndefined();
    });

    it("a group's version and ETag change when its members change; If-None-Match and If-Match follow", async () => {
      const u = (await scim.request('POST', '/Users', userBody('etag-member@example.com'))).body;
      const g = await scim.request('POST', '/Groups', { displayName: 'etag-group' });
      const v1 = g.headers.get('etag') as string;
      expect((await scim.request('GET', `/Groups/${g.body.id}`, undefined, { 'if-none-match': v1 })).status).toBe(304);
      const added = await scim.request('PATCH', `/Groups/${g.body.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: u.id }] }],
      });
      expect(added.status).toBe(204);
      const v2 = added.headers.get('etag') as string;
      expect(v2).not.toBe(v1);
      const got = await scim.request('GET', `/Groups/${g.body.id}`, undefined, { 'if-none-match': v1 });
      expect(got.status).toBe(200);
      expect(got.body.meta.version).toBe(v2);
      // A member leaving through its own deletion moves the version too.
      await scim.request('DELETE', `/Users/${u.id}`);
      const after = await scim.request('GET', `/Groups/${g.body.id}`);
      expect(after.body.meta.version).not.toBe(v2);
      const stale = await scim.request('PUT', `/Groups/${g.body.id}`, { displayName: 'etag-group-2' }, { 'if-match': v2 });
      expect(stale.status).toBe(412);
      const fresh = await scim.request('PUT', `/Groups/${g.body.id}`, { displayName: 'etag-group-2' }, { 'if-match': after.body.meta.version });
      expect(fresh.status).toBe(200);
    });

    it("no grant inside a hierarchy while the account's SCIM identity there is inactive", async () => {
      await server.createGroup('suspended');
      const tenant = await server.scim('suspended');
      const u = (await tenant.request('POST', '/Users', userBody('sus@suspended.test'))).body;
      const accountId = (await server.admin('GET', `/api/v1/identities/${u.id}`)).body.account.id;
      await tenant.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      const grant = await server.admin('PUT', `/api/v1/groups/suspended/members/${accountId}`, { accessLevel: 'developer' });
      expect(grant.status).toBe(409);
      expect(grant.text).toMatch(/deactivated/);
      const members = (await server.admin('GET', '/api/v1/groups/suspended/members')).body;
      expect(members.some((m: { accountId: string }) => m.accountId === accountId)).toBe(false);
    });
  });
});
