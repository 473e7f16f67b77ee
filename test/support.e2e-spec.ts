import { ADMIN_TOKEN, type ScimClient, TestServer, userBody } from './support/test-server';
import { clockPassed } from '@app/testing';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('support', () => {
  let server: TestServer;
  let scim: ScimClient;
  let supportToken: string;
  let userId: string;
  let accountId: string;
  let beforeChange: string;

  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
    supportToken = (await server.admin('POST', '/api/v1/tokens', { role: 'support' })).body.token;
    const u = await scim.request('POST', '/Users', userBody('jane.doe@corp.test', { externalId: 'Jane.Doe@corp.test' }), { 'user-agent': 'Okta SCIM Client 1.0.0' });
    userId = u.body.id;
    accountId = (await server.admin('GET', `/api/v1/identities/${userId}`)).body.account.id;
    // A time strictly after the creation and strictly before the changes (the server runs in this process, on this clock).
    await clockPassed(Date.now());
    beforeChange = new Date().toISOString();
    await clockPassed(Date.parse(beforeChange));
    await scim.request('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'externalId', value: '00u-okta-id' }] });
    await scim.request('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'jane.smith@corp.test' }] });
    await scim.request('POST', '/Users', userBody('JANE.SMITH@corp.test'));
  });
  afterAll(() => server.stop());

  const get = (path: string, token = supportToken) => server.http('GET', path, { token });

  it('finds a person by any identifier ever held, and who held it at a given time', async () => {
    const byOldUserName = await get('/api/v1/support/search?q=JANE.DOE@corp.test');
    expect(byOldUserName.status).toBe(200);
    expect(byOldUserName.body.accounts).toEqual([accountId]);
    expect(byOldUserName.body.matches.map((m: { kind: string }) => m.kind).sort()).toEqual(['email', 'externalId', 'nameId', 'userName']);
    expect((await get(`/api/v1/support/search?q=${userId}`)).body.accounts).toEqual([accountId]);
    const then = await get(`/api/v1/support/search?q=${encodeURIComponent('Jane.Doe@corp.test')}&at=${beforeChange}`);
    expect(then.body.matches.some((m: { kind: string }) => m.kind === 'nameId')).toBe(true);
    const now = await get(`/api/v1/support/search?q=${encodeURIComponent('Jane.Doe@corp.test')}&at=${new Date().toISOString()}`);
    expect(now.body.matches.some((m: { kind: string }) => m.kind === 'nameId')).toBe(false);
  });

  it('shows a timeline with actor, IdP, request id, one-line diffs and the rejected request', async () => {
    const t = await get(`/api/v1/support/accounts/${accountId}/timeline`);
    expect(t.body.entries.map((e: { type: string }) => e.type)).toEqual(['UserProvisioned', 'ExternIdChanged', 'UserNameChanged', 'ProvisioningRejected']);
    expect(t.body.entries[0]).toMatchObject({ idp: 'Okta', outcome: 'success', actor: expect.objectContaining({ kind: 'scim_token' }), requestId: expect.any(String) });
    expect(t.body.entries[1].summary).toBe('externalId: "Jane.Doe@corp.test" → "00u-okta-id" (SAML NameID "Jane.Doe@corp.test" → "00u-okta-id")');
    expect(t.body.entries[3]).toMatchObject({ outcome: 'rejected', summary: expect.stringContaining('409') });
  });

  it('shows the state at a past time or revision, which event set each field, and the diff', async () => {
    const past = await get(`/api/v1/support/accounts/${accountId}/state?at=${beforeChange}`);
    expect(past.body.state.identities[userId]).toMatchObject({ externalId: 'Jane.Doe@corp.test', userName: 'jane.doe@corp.test' });
    const latest = await get(`/api/v1/support/accounts/${accountId}/state`);
    expect(latest.body.state.identities[userId]).toMatchObject({ externalId: '00u-okta-id', userName: 'jane.smith@corp.test' });
    expect(latest.body.setBy[`identities.${userId}.externalId`]).toMatchObject({ type: 'ExternIdChanged' });
    const rev0 = await get(`/api/v1/support/accounts/${accountId}/state?revision=0`);
    expect(rev0.body.revision).toBe('0');
    const diff = await get(`/api/v1/support/accounts/${accountId}/diff?fromRevision=0&toRevision=2`);
    expect(diff.body.changes).toEqual(
      expect.arrayContaining([
        { path: `identities.${userId}.externalId`, from: 'Jane.Doe@corp.test', to: '00u-okta-id' },
        { path: `identities.${userId}.userName`, from: 'jane.doe@corp.test', to: 'jane.smith@corp.test' },
      ]),
    );
  });

  it('diagnoses a NameID: exact, changed externalId, case-only mismatch, from a SAML response too', async () => {
    const exact = await get('/api/v1/support/nameid-diagnosis?nameId=00u-okta-id');
    expect(exact.body.findings.map((f: { code: string }) => f.code)).toContain('exact_match');
    const old = await get(`/api/v1/support/nameid-diagnosis?nameId=${encodeURIComponent('Jane.Doe@corp.test')}`);
    expect(old.body.findings.map((f: { code: string }) => f.code)).toEqual(expect.arrayContaining(['no_match', 'externalid_changed']));
    const cased = await get('/api/v1/support/nameid-diagnosis?nameId=00U-OKTA-ID');
    expect(cased.body.findings[0]).toMatchObject({ code: 'case_only_mismatch', identityId: userId });
    const saml = Buffer.from('<samlp:Response><saml:Assertion><saml:Subject><saml:NameID Format="x">00u-okta-id</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>').toString('base64');
    expect((await get(`/api/v1/support/nameid-diagnosis?samlResponse=${encodeURIComponent(saml)}`)).body.nameId).toBe('00u-okta-id');
  });

  it('remediates with a mandatory reason; a dry run shows the events and writes nothing', async () => {
    const post = (body: unknown) => server.http('POST', '/api/v1/support/remediations', { token: supportToken, body, headers: { 'content-type': 'application/json' } });
    expect((await post({ action: 'change-external-id', scimId: userId, externalId: 'x' })).status).toBe(400);
    const dry = await post({ action: 'change-external-id', scimId: userId, externalId: 'Jane.Doe@corp.test', reason: 'IdP sends the email as NameID', dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.events).toEqual([expect.objectContaining({ type: 'ExternIdChanged' })]);
    expect((await server.admin('GET', `/api/v1/identities/${userId}`)).body.externalId).toBe('00u-okta-id');
    const done = await post({ action: 'change-external-id', scimId: userId, externalId: 'Jane.Doe@corp.test', reason: 'IdP sends the email as NameID' });
    expect(done.body.dryRun).toBe(false);
    expect((await server.admin('GET', `/api/v1/identities/${userId}`)).body).toMatchObject({ externalId: 'Jane.Doe@corp.test', samlNameId: 'Jane.Doe@corp.test' });
    const audit = await server.http('GET', `/api/v1/audit/events?filter=${encodeURIComponent(`target.id eq "${accountId}" and type eq "ExternIdChanged"`)}&until=2999-01-01T00:00:00Z`, { token: ADMIN_TOKEN });
    expect(audit.body.at(-1).actor).toMatchObject({ kind: 'support' });
  });

  it('records every read of personal data by support, and refuses support what it may not do', async () => {
    const reads = await server.http('GET', `/api/v1/audit/events?filter=${encodeURIComponent('type eq "SupportDataRead"')}&until=2999-01-01T00:00:00Z&limit=1000`, { token: ADMIN_TOKEN });
    expect(reads.body.length).toBeGreaterThanOrEqual(8);
    const auditor = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor' })).body.token;
    expect((await get('/api/v1/support/search?q=x', auditor)).status).toBe(403);
    expect((await server.http('POST', '/api/v1/saml-group-links', { token: supportToken, body: { samlGroupName: 'a', groupPath: 'b', accessLevel: 'guest' }, headers: { 'content-type': 'application/json' } })).status).toBe(403);
  });

  it('lets an auditor list the support reads of one person (filter subject eq "<account id>")', async () => {
    const other = await scim.request('POST', '/Users', userBody('someone.else@corp.test'));
    const otherAccount = (await server.admin('GET', `/api/v1/identities/${other.body.id}`)).body.account.id;
    await get(`/api/v1/support/accounts/${otherAccount}/timeline`);
    await get(`/api/v1/support/accounts/${accountId}/state?at=${encodeURIComponent(new Date().toISOString())}`);
    const readsOf = async (account: string) => {
      const filter = encodeURIComponent(`type eq "SupportDataRead" and subject eq "${account}"`);
      const r = await server.http('GET', `/api/v1/audit/events?filter=${filter}&until=2999-01-01T00:00:00Z&limit=1000`, { token: ADMIN_TOKEN });
      expect(r.status).toBe(200);
      return r.body as { data: { what: string; subject: string } }[];
    };
    const jane = await readsOf(accountId);
    expect(jane.length).toBeGreaterThanOrEqual(1);
    expect(jane.every((e) => e.data.subject === accountId)).toBe(true);
    expect(jane.map((e) => e.data.what)).toContain('state');
    expect((await readsOf(otherAccount)).map((e) => e.data.what)).toEqual(['timeline']);
  });
});
