import { type ScimClient, TestServer, userBody } from './support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;

describe('SCIM Users', () => {
  let server: TestServer;
  let scim: ScimClient;
  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
  });
  afterAll(() => server.stop());

  describe('create and read', () => {
    it('POST returns 201 with the resource, Location, ETag and no password', async () => {
      const r = await scim.request('POST', '/Users', userBody('ann@example.com', { externalId: 'ext-ann', password: 's3cret!' }));
      expect(r.status).toBe(201);
      expect(r.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
      expect(r.headers.get('location')).toBe(`${scim.base}/Users/${r.body.id}`);
      expect(r.headers.get('etag')).toBe(r.body.meta.version);
      expect(r.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'ann@example.com',
        externalId: 'ext-ann',
        active: true,
        meta: { resourceType: 'User', location: r.headers.get('location') },
      });
      expect(r.body.meta.version).toMatch(/^W\/"\d+"$/);
      expect(r.text).not.toContain('s3cret!');
      expect(r.body.password).toBeUndefined();
      const got = await scim.request('GET', `/Users/${r.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(r.body);
    });

    it('a POST followed at once by a filter sees the user (read-your-writes)', async () => {
      for (let i = 0; i < 5; i++) {
        const created = await scim.request('POST', '/Users', userBody(`ryw${i}@example.com`));
        const found = await scim.request('GET', q(`userName eq "ryw${i}@example.com"`));
        expect(found.body.totalResults).toBe(1);
        expect(found.body.Resources[0].id).toBe(created.body.id);
      }
    });

    it('refuses a second user with the same userName (any case) or externalId with 409 uniqueness', async () => {
      await scim.request('POST', '/Users', userBody('bob@example.com', { externalId: 'ext-bob' }));
      const sameName = await scim.request('POST', '/Users', userBody('BOB@example.com', { externalId: 'ext-other' }));
      expect(sameName.status).toBe(409);
      expect(sameName.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
      expect(sameName.body.detail).not.toContain('bob');
      const sameExt = await scim.request('POST', '/Users', userBody('robert@example.com', { externalId: 'EXT-BOB' }));
      expect(sameExt.status).toBe(409);
    });

    it('rejects a body without userName, malformed JSON and wrong types, changing nothing', async () => {
      const before = await scim.request('GET', '/Users?count=0');
      const noName = await scim.request('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'] });
      expect(noName.status).toBe(400);
      expect(noName.body.scimType).toBe('invalidValue');
      const broken = await server.http('POST', `${scim.base}/Users`, { token: scim.token, raw: '{"userName": "x",' });
      expect(broken.status).toBe(400);
      expect(broken.body).toMatchObject({ scimType: 'invalidSyntax', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
      const wrongType = await scim.request('POST', '/Users', userBody('typed@example.com', { active: 7 }));
      expect(wrongType.status).toBe(400);
      const after = await scim.request('GET', '/Users?count=0');
      expect(after.body.totalResults).toBe(before.body.totalResults);
    });

    it('unknown ids, including ones that are not UUIDs, are 404', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '..%2F..%2Fetc', '%00']) {
        const r = await scim.request('GET', `/Users/${id}`);
        expect(r.status).toBe(404);
        expect(r.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
      }
    });
  });

  describe('filtering, paging, sorting', () => {
    it('pages in stable creation order with startIndex and count', async () => {
      await server.createGroup('paging');
      const client = await server.scim('paging');
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push((await client.request('POST', '/Users', userBody(`p${String(i).padStart(2, '0')}@paging.test`))).body.id);
      const page1 = await client.request('GET', '/Users?startIndex=1&count=5');
      const page2 = await client.request('GET', '/Users?startIndex=6&count=5');
      const page3 = await client.request('GET', '/Users?startIndex=11&count=5');
      expect(page1.body).toMatchObject({ totalResults: 12, itemsPerPage: 5, startIndex: 1 });
      expect(page3.body).toMatchObject({ totalResults: 12, itemsPerPage: 2, startIndex: 11 });
      expect([...page1.body.Resources, ...page2.body.Resources, ...page3.body.Resources].map((u: { id: string }) => u.id)).toEqual(ids);
      const totals = await client.request('GET', '/Users?count=0');
      expect(totals.body).toMatchObject({ totalResults: 12, itemsPerPage: 0, Resources: [] });
      const low = await client.request('GET', '/Users?startIndex=0&count=1');
      expect(low.body.startIndex).toBe(1);
      const sorted = await client.request('GET', '/Users?sortBy=userName&sortOrder=descending&count=2');
      expect(sorted.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['p11@paging.test', 'p10@paging.test']);
    });

    it('supports the filter grammar and refuses what it cannot filter with invalidFilter', async () => {
      await scim.request('POST', '/Users', userBody('carol@example.com', { externalId: 'Ext-Carol', title: 'CTO', name: { givenName: 'Carol', familyName: 'Jones' } }));
      const hit = async (filter: string) => (await scim.request('GET', q(filter))).body;
      expect((await hit('userName eq "CAROL@example.com"')).totalResults).toBe(1);
      expect((await hit('externalId eq "Ext-Carol"')).totalResults).toBe(1);
      // externalId is unique folded (the SAML NameID), so eq finds it in any case: docs/decisions.md.
      expect((await hit('externalId eq "ext-carol"')).totalResults).toBe(1);
      expect((await hit('name.familyName eq "Jones" and title co "ct"')).totalResults).toBe(1);
      expect((await hit('emails[type eq "work" and value sw "carol@"]')).totalResults).toBe(1);
      expect((await hit('meta.created gt "2000-01-01T00:00:00Z" and userName sw "carol"')).totalResults).toBe(1);
      expect((await hit('userName eq "nobody@example.com"'))).toMatchObject({ totalResults: 0, Resources: [] });
      for (const bad of ['userName eq', 'nosuchattr eq "x"', 'userName zz "x"', '(userName eq "x"', 'userName eq "x" garbage']) {
        const r = await scim.request('GET', q(bad));
        expect(r.status).toBe(400);
        expect(r.body.scimType).toBe('invalidFilter');
      }
    });

    it('POST /Users/.search and /.search take the same parameters in the body', async () => {
      const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "carol@example.com"', attributes: ['userName'] };
      for (const path of ['/Users/.search', '/.search']) {
        const r = await scim.request('POST', path, body);
        expect(r.status).toBe(200);
        expect(r.body.totalResults).toBe(1);
        expect(Object.keys(r.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
      }
    });

    it('attributes and excludedAttributes shape reads', async () => {
      const r = await scim.request('GET', `${q('userName eq "carol@example.com"')}&excludedAttributes=emails,name`);
      expect(r.body.Resources[0].emails).toBeUndefined();
      expect(r.body.Resources[0].name).toBeUndefined();
      expect(r.body.Resources[0].userName).toBe('carol@example.com');
    });
  });

  describe('updates', () => {
    it('PUT replaces attributes, ignores echoed read-only members and never deactivates by omission', async () => {
      const created = (await scim.request('POST', '/Users', userBody('dave@example.com', { title: 'Dev' }))).body;
      const { active: _a, title: _t, ...rest } = created;
      const r = await scim.request('PUT', `/Users/${created.id}`, { ...rest, displayName: 'Dave D', groups: [{ value: 'x' }] });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: created.id, displayName: 'Dave D', active: true });
      expect(r.body.title).toBeUndefined();
      expect(r.headers.get('etag')).not.toBe(created.meta.version);
    });

    it('If-Match with a stale version is 412 and changes nothing; If-None-Match answers 304', async () => {
      const created = (await scim.request('POST', '/Users', userBody('erin@example.com'))).body;
      const etag = created.meta.version;
      const ok = await scim.request('PATCH', `/Users/${created.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'A' }] }, { 'if-match': etag });
      expect(ok.status).toBe(200);
      const stale = await scim.request('PATCH', `/Users/${created.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'B' }] }, { 'if-match': etag });
      expect(stale.status).toBe(412);
      expect((await scim.request('GET', `/Users/${created.id}`)).body.title).toBe('A');
      const notModified = await scim.request('GET', `/Users/${created.id}`, undefined, { 'if-none-match': ok.headers.get('etag') as string });
      expect(notModified.status).toBe(304);
    });

    it('records an externalId change and keeps uniqueness', async () => {
      const a = (await scim.request('POST', '/Users', userBody('fay@example.com', { externalId: 'fay-1' }))).body;
      await scim.request('POST', '/Users', userBody('gus@example.com', { externalId: 'gus-1' }));
      const changed = await scim.request('PATCH', `/Users/${a.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'externalId', value: 'fay-2' }] });
      expect(changed.body.externalId).toBe('fay-2');
      const identity = await server.admin('GET', `/api/v1/identities/${a.id}`);
      expect(identity.body).toMatchObject({ externalId: 'fay-2', samlNameId: 'fay-2' });
      const taken = await scim.request('PATCH', `/Users/${a.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'externalId', value: 'GUS-1' }] });
      expect(taken.status).toBe(409);
    });
  });

  describe('lifecycle (GitLab rules)', () => {
    it('instance scope: deactivation blocks the account, reactivation unblocks it', async () => {
      const u = (await scim.request('POST', '/Users', userBody('hal@example.com', { externalId: 'hal' }))).body;
      const off = await scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      expect(off.body.active).toBe(false);
      expect((await server.admin('GET', `/api/v1/identities/${u.id}`)).body.account.state).toBe('blocked');
      expect((await scim.request('GET', `/Users/${u.id}`)).body.active).toBe(false);
      const on = await scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] });
      expect(on.body.active).toBe(true);
      expect((await server.admin('GET', `/api/v1/identities/${u.id}`)).body.account.state).toBe('active');
    });

    it('DELETE makes the user disappear; a POST with the same externalId brings it back with the same id', async () => {
      const u = (await scim.request('POST', '/Users', userBody('ivy@example.com', { externalId: 'ivy-ext' }))).body;
      expect((await scim.request('DELETE', `/Users/${u.id}`)).status).toBe(204);
      expect((await scim.request('GET', `/Users/${u.id}`)).status).toBe(404);
      expect((await scim.request('GET', q('userName eq "ivy@example.com"'))).body.totalResults).toBe(0);
      const back = await scim.request('POST', '/Users', userBody('ivy@example.com', { externalId: 'ivy-ext', title: 'Back' }));
      expect(back.status).toBe(201);
      expect(back.body).toMatchObject({ id: u.id, active: true, title: 'Back' });
      expect((await server.admin('GET', `/api/v1/identities/${u.id}`)).body.account.state).toBe('active');
    });

    it('a POST for a deactivated identity with that userName and no externalId adopts the externalId', async () => {
      const u = (await scim.request('POST', '/Users', userBody('jo@example.com'))).body;
      await scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      const back = await scim.request('POST', '/Users', userBody('jo@example.com', { externalId: 'jo-ext' }));
      expect(back.status).toBe(201);
      expect(back.body).toMatchObject({ id: u.id, externalId: 'jo-ext', active: true });
    });

    it('an inactive identity with that userName but another externalId is a different person: 409', async () => {
      const u = (await scim.request('POST', '/Users', userBody('kim@example.com', { externalId: 'kim-1' }))).body;
      await scim.request('DELETE', `/Users/${u.id}`);
      const other = await scim.request('POST', '/Users', userBody('kim@example.com', { externalId: 'kim-2' }));
      expect(other.status).toBe(409);
    });

    it('links an existing account by email in the instance scope; a group scope only for a verified domain', async () => {
      await server.createGroup('verified', { verifiedDomains: ['corp.test'] });
      await server.createGroup('unverified');
      const inst = (await scim.request('POST', '/Users', userBody('lee@corp.test', { externalId: 'lee' }))).body;
      const accountId = (await server.admin('GET', `/api/v1/identities/${inst.id}`)).body.account.id;
      const unverified = await server.scim('unverified');
      const refused = await unverified.request('POST', '/Users', userBody('lee.other@corp.test', { emails: [{ value: 'lee@corp.test', primary: true }] }));
      expect(refused.status).toBe(409);
      const verified = await server.scim('verified');
      const linked = await verified.request('POST', '/Users', userBody('lee.g@corp.test', { emails: [{ value: 'lee@corp.test', primary: true }] }));
      expect(linked.status).toBe(201);
      expect((await server.admin('GET', `/api/v1/identities/${linked.body.id}`)).body.account.id).toBe(accountId);
    });

    it('group scope: provisioning grants the default role; deactivation removes memberships and keeps the account', async () => {
      await server.createGroup('acme', { defaultMembershipRole: 'developer' });
      const acme = await server.scim('acme');
      const u = (await acme.request('POST', '/Users', userBody('max@acme.test', { externalId: 'max' }))).body;
      const accountId = (await server.admin('GET', `/api/v1/identities/${u.id}`)).body.account.id;
      let members = (await server.admin('GET', '/api/v1/groups/acme/members')).body;
      expect(members).toEqual([expect.objectContaining({ accountId, accessLevel: 'developer', source: 'scim_provisioning', state: 'active' })]);
      await acme.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      members = (await server.admin('GET', '/api/v1/groups/acme/members')).body;
      expect(members).toEqual([]);
      const identity = (await server.admin('GET', `/api/v1/identities/${u.id}`)).body;
      expect(identity).toMatchObject({ active: false, account: { id: accountId, state: 'active' } });
    });

    it('refuses to deprovision the last owner of a group with 409', async () => {
      await server.createGroup('owned');
      const owned = await server.scim('owned');
      const u = (await owned.request('POST', '/Users', userBody('olga@owned.test'))).body;
      const accountId = (await server.admin('GET', `/api/v1/identities/${u.id}`)).body.account.id;
      expect((await server.admin('PUT', `/api/v1/groups/owned/members/${accountId}`, { accessLevel: 'owner' })).status).toBe(200);
      const r = await owned.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      expect(r.status).toBe(409);
      expect((await owned.request('GET', `/Users/${u.id}`)).body.active).toBe(true);
    });
  });

  describe('tenant isolation', () => {
    it("a token of one scope can neither read, change nor see another scope's users", async () => {
      await server.createGroup('tenant-a');
      await server.createGroup('tenant-b');
      const a = await server.scim('tenant-a');
      const b = await server.scim('tenant-b');
      const ua = (await a.request('POST', '/Users', userBody('same@tenants.test'))).body;
      const ub = await b.request('POST', '/Users', userBody('same@tenants.test', { emails: [] }));
      expect(ub.status).toBe(201);
      expect((await b.request('GET', `/Users/${ua.id}`)).status).toBe(404);
      expect((await b.request('PATCH', `/Users/${ua.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] })).status).toBe(404);
      expect((await b.request('DELETE', `/Users/${ua.id}`)).status).toBe(404);
      expect((await b.request('GET', '/Users')).body.Resources.map((u: { id: string }) => u.id)).not.toContain(ua.id);
      // B's token on A's URL, and any token on a group that does not exist: the same 401.
      const cross = await server.http('GET', `${a.base}/Users`, { token: b.token });
      const missing = await server.http('GET', `${server.url}/api/scim/v2/groups/no-such-group/Users`, { token: b.token });
      expect(cross.status).toBe(401);
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual(cross.body);
    });
  });
});
