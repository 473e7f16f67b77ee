import { TestServer, userBody } from './support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('personal data in the audit trail stays where it is masked', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterAll(() => server.stop());

  it('keeps no raw client text (a PATCH path or a URL segment that is an email) in records a non-pii auditor reads', async () => {
    const scim = await server.scim();
    const id = (await scim.request('POST', '/Users', userBody('someone@example.com'))).body.id;
    const secret = 'jane.doe@private.example';
    const patch = await scim.request('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: secret, value: 'x' }] });
    expect(patch.status).toBe(400);
    expect((await scim.request('GET', `/Users/${encodeURIComponent(secret)}`)).status).toBe(404);
    expect((await scim.request('DELETE', `/Users/${secret}`)).status).toBe(404);

    const auditor = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor' })).body.token as string;
    const events = await server.http('GET', '/api/v1/audit/events?limit=1000&until=2999-01-01T00:00:00Z', { token: auditor });
    expect(events.status).toBe(200);
    const rejections = (events.body as { type: string }[]).filter((e) => e.type === 'ProvisioningRejected');
    expect(rejections.length).toBeGreaterThanOrEqual(3);
    expect(events.text).not.toContain('jane.doe');
    expect(events.text).not.toContain('private.example');
    // What the records keep instead: the route, with the parameter named.
    expect(events.text).toContain('/api/scim/v2/application/Users/:id');
  });

  it('q finds a person by any identifier they ever held, for auditors with pii only', async () => {
    const scim = await server.scim();
    const created = await scim.request('POST', '/Users', userBody('grace@old.example', { externalId: 'okta-grace' }));
    const id = created.body.id as string;
    await scim.request('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'grace@new.example' }] });
    const withPii = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor', pii: true })).body.token as string;
    const without = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor' })).body.token as string;
    const search = (token: string, q: string) => server.http('GET', `/api/v1/audit/events?limit=1000&until=2999-01-01T00:00:00Z&q=${encodeURIComponent(q)}`, { token });

    for (const q of ['grace@old.example', 'GRACE@new.example', 'okta-grace']) {
      const found = await search(withPii, q);
      expect(found.status).toBe(200);
      const types = (found.body as { type: string }[]).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['UserProvisioned', 'UserNameChanged']));
      // Without pii, a personal value finds nobody (the masked records must not answer "who holds it?").
      expect((await search(without, q)).body).toEqual([]);
    }
    // Ids find records for every auditor.
    expect(((await search(without, id)).body as unknown[]).length).toBeGreaterThan(0);
  });
});
