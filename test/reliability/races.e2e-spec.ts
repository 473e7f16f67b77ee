import { type ScimClient, TestServer, userBody } from '../support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort();

/**
 * Uniqueness and concurrency are decided by the store (reservation streams and expected
 * revisions), so parallel requests give exactly one winner — never two users.
 */
describe('races', () => {
  let server: TestServer;
  let scim: ScimClient;
  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
  });
  afterAll(() => server.stop());

  it('50 parallel POSTs of one userName: one 201, 49 × 409, one account and one identity', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => scim.request('POST', '/Users', userBody('race@example.com', { externalId: `ext-${i}`, emails: [] }))));
    expect(statuses(rs)).toEqual([201, ...Array(49).fill(409)]);
    const found = await scim.request('GET', `/Users?filter=${encodeURIComponent('userName eq "race@example.com"')}`);
    expect(found.body.totalResults).toBe(1);
  });

  it('50 parallel POSTs of one externalId: one 201', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => scim.request('POST', '/Users', userBody(`ext-race-${i}@example.com`, { externalId: 'SAME-EXT', emails: [] }))));
    expect(statuses(rs)).toEqual([201, ...Array(49).fill(409)]);
    expect((await scim.request('GET', `/Users?filter=${encodeURIComponent('externalId eq "SAME-EXT"')}`)).body.totalResults).toBe(1);
  });

  it('50 parallel POSTs of one SCIM group displayName: one 201', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, () => scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Racers' })));
    expect(statuses(rs)).toEqual([201, ...Array(49).fill(409)]);
    expect((await scim.request('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Racers"')}`)).body.totalResults).toBe(1);
  });

  it('one email POSTed by two scopes at once gives one account', async () => {
    await server.createGroup('race-a', { verifiedDomains: ['race-mail.test'] });
    const a = await server.scim('race-a');
    const [r1, r2] = await Promise.all([
      scim.request('POST', '/Users', userBody('mail@race-mail.test')),
      a.request('POST', '/Users', userBody('mail@race-mail.test')),
    ]);
    expect([r1.status, r2.status]).toEqual([201, 201]);
    const acc1 = (await server.admin('GET', `/api/v1/identities/${r1.body.id}`)).body.account.id;
    const acc2 = (await server.admin('GET', `/api/v1/identities/${r2.body.id}`)).body.account.id;
    expect(acc1).toBe(acc2);
  });

  it('20 parallel PATCHes without If-Match all apply', async () => {
    const u = (await scim.request('POST', '/Users', userBody('patchy@example.com'))).body;
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'emails', value: [{ value: `alias${i}@example.com`, type: 'other' }] }] }),
      ),
    );
    expect(rs.every((r) => r.status === 200)).toBe(true);
    const final = (await scim.request('GET', `/Users/${u.id}`)).body;
    const values = final.emails.map((e: { value: string }) => e.value);
    for (let i = 0; i < 20; i++) expect(values).toContain(`alias${i}@example.com`);
  });

  it('20 parallel PATCHes with one shared If-Match: exactly one wins, the rest get 412', async () => {
    const u = (await scim.request('POST', '/Users', userBody('etag-race@example.com'))).body;
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `t${i}` }] }, { 'if-match': u.meta.version }),
      ),
    );
    expect(statuses(rs)).toEqual([200, ...Array(19).fill(412)]);
  });
});
