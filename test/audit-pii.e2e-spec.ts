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
});
