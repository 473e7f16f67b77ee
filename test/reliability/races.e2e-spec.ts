import { type ScimClient, TestServer, userBody } from '../support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort();
/** Unique per run: an EventStoreDB node keeps its reservations from earlier runs. */
const RUN = Math.random().toString(36).slice(2, 8);

/**
 * Uniqueness and concurrency are decided by the store (reservation streams and expected
 * revisions), so parallel requests give exactly one winner — never two users.
 */
const STORES: [string, Record<string, string>][] = [['embedded store', {}]];
if (process.env.EVENTSTORE_CONNECTION_STRING) {
  STORES.push(['EventStoreDB', { EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: process.env.EVENTSTORE_CONNECTION_STRING }]);
} else {
  console.warn('races on EventStoreDB skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server)');
}

describe.each(STORES)('races (%s)', (_name, env) => {
  let server: TestServer;
  let scim: ScimClient;
  beforeAll(async () => {
    server = await TestServer.start(env);
    scim = await server.scim();
  }, 60_000);
  afterAll(() => server.stop());

  it('50 parallel POSTs of one userName: one 201, 49 × 409, one account and one identity', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => scim.request('POST', '/Users', userBody(`race-${RUN}@example.com`, { externalId: `ext-${RUN}-${i}`, emails: [] }))));
    expect(statuses(rs)).toEqual([201, ...Array(49).fill(409)]);
    const found = await scim.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "race-${RUN}@example.com"`)}`);
    expect(found.body.totalResults).toBe(1);
  });

  it('50 parallel POSTs of one externalId: one 201', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => scim.request('POST', '/Users', userBody(`ext-race-${RUN}-${i}@example.com`, { externalId: `SAME-EXT-${RUN}`, emails: [] }))));
    expect(statuses(rs)).toEqual([201, ...Array(49).fill(409)]);
    expect((await scim.request('GET', `/Users?filter=${encodeURIComponent(`externalId eq "SAME-EXT-${RUN}"`)}`)).body.totalResults).toBe(1);
  });

  it('50 parallel POSTs of one SCIM group displayName: one 201', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, () => scim.request('POST', '/Groups', { schemas: [GROUP], displayName: `Racers-${RUN}` })));
    expect(statuses(rs)).toEqual([201, ...Array(49).fill(409)]);
    expect((await scim.request('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "Racers-${RUN}"`)}`)).body.totalResults).toBe(1);
  });

  it('one email POSTed by two scopes at once gives one account', async () => {
    await server.createGroup(`race-a-${RUN}`, { verifiedDomains: [`race-mail-${RUN}.test`] });
    const a = await server.scim(`race-a-${RUN}`);
    const [r1, r2] = await Promise.all([
      scim.request('POST', '/Users', userBody(`mail@race-mail-${RUN}.test`)),
      a.request('POST', '/Users', userBody(`mail@race-mail-${RUN}.test`)),
    ]);
    expect([r1.status, r2.status]).toEqual([201, 201]);
    const acc1 = (await server.admin('GET', `/api/v1/identities/${r1.body.id}`)).body.account.id;
    const acc2 = (await server.admin('GET', `/api/v1/identities/${r2.body.id}`)).body.account.id;
    expect(acc1).toBe(acc2);
  });

  it('20 parallel PATCHes without If-Match all apply', async () => {
    const u = (await scim.request('POST', '/Users', userBody(`patchy-${RUN}@example.com`))).body;
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'emails', value: [{ value: `alias${i}-${RUN}@example.com`, type: 'other' }] }] }),
      ),
    );
    expect(rs.every((r) => r.status === 200)).toBe(true);
    const final = (await scim.request('GET', `/Users/${u.id}`)).body;
    const values = final.emails.map((e: { value: string }) => e.value);
    for (let i = 0; i < 20; i++) expect(values).toContain(`alias${i}-${RUN}@example.com`);
  });

  it('20 parallel PATCHes with one shared If-Match: exactly one wins, the rest get 412', async () => {
    const u = (await scim.request('POST', '/Users', userBody(`etag-race-${RUN}@example.com`))).body;
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `t${i}` }] }, { 'if-match': u.meta.version }),
      ),
    );
    expect(statuses(rs)).toEqual([200, ...Array(19).fill(412)]);
  });
});
