import { randomUUID } from 'node:crypto';
import { type ScimClient, TestServer } from '../support/test-server';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * What Microsoft Entra ID's provisioning service sends, in both of its PATCH shapes:
 * default tenants (capitalised ops, string booleans, one op per path) and tenants with the
 * `aadOptscim062020` flag (lower-case ops, real booleans, pathless values keyed by paths).
 */
describe.each([
  ['default tenant', false],
  ['aadOptscim062020 tenant', true],
])('Entra ID user lifecycle (%s)', (_label, compliant) => {
  let server: TestServer;
  let scim: ScimClient;
  let base: string;
  const upn = `jo.${compliant ? 'c' : 'd'}@contoso.example`;
  const objectId = randomUUID();
  let id: string;

  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
    base = compliant ? `${scim.base}` : scim.base;
  });
  afterAll(() => server.stop());
  const call = (method: string, path: string, body?: unknown) =>
    server.http(method, `${base}${path}${compliant ? (path.includes('?') ? '&' : '?') + 'aadOptscim062020' : ''}`, {
      token: scim.token,
      body,
      headers: { 'user-agent': 'Azure AD SCIM Provisioning/1.0' },
    });

  it('Test Connection: a filter on a random GUID answers 200 with no results', async () => {
    const r = await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${randomUUID()}"`)}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it('matches by userName, then creates the user with the enterprise extension', async () => {
    const miss = await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${upn}"`)}`);
    expect(miss.body.totalResults).toBe(0);
    const r = await call('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
      externalId: objectId,
      userName: upn,
      active: true,
      displayName: 'Jo Example',
      emails: [{ primary: true, type: 'work', value: upn }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Jo Example', familyName: 'Example', givenName: 'Jo' },
      title: 'Engineer',
      [ENT]: { employeeNumber: '1001', department: 'R&D' },
    });
    expect(r.status).toBe(201);
    expect(r.body.schemas).toContain(ENT);
    expect(r.body[ENT]).toEqual({ employeeNumber: '1001', department: 'R&D' });
    id = r.body.id;
  });

  it('applies attribute changes in the tenant dialect', async () => {
    const ops = compliant
      ? [
          { op: 'replace', value: { displayName: 'Jo E', 'name.givenName': 'Joanne', [`${ENT}:employeeNumber`]: '7' } },
          { op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
          { op: 'replace', path: 'emails[type eq "work"].value', value: `new.${upn}` },
          { op: 'add', path: 'addresses[type eq "work"].postalCode', value: '98052' },
          { op: 'replace', path: `${ENT}:department`, value: 'Ops' },
        ]
      : [
          { op: 'Replace', path: 'displayName', value: 'Jo E' },
          { op: 'Replace', path: 'name.givenName', value: 'Joanne' },
          { op: 'Replace', path: `${ENT}:employeeNumber`, value: '7' },
          { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: `new.${upn}` },
          { op: 'Add', path: 'addresses[type eq "work"].postalCode', value: '98052' },
          { op: 'Replace', path: `${ENT}:department`, value: 'Ops' },
        ];
    const r = await call('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: ops });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      displayName: 'Jo E',
      name: { givenName: 'Joanne', familyName: 'Example' },
      phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
      emails: [{ primary: true, type: 'work', value: `new.${upn}` }],
      addresses: [{ type: 'work', postalCode: '98052' }],
      [ENT]: { employeeNumber: '7', department: 'Ops' },
    });
  });

  it('sets the manager as a plain id and as an array, reads it back as {value}, removes it', async () => {
    const manager = (await call('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `boss.${upn}`, externalId: randomUUID() })).body.id;
    const set = await call('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [compliant ? { op: 'add', path: `${ENT}:manager`, value: [{ $ref: null, value: manager }] } : { op: 'Add', path: `${ENT}:manager`, value: manager }],
    });
    expect(set.body[ENT].manager).toEqual({ value: manager });
    const removed = await call('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [compliant ? { op: 'remove', path: `${ENT}:manager` } : { op: 'Replace', path: `${ENT}:manager`, value: '' }],
    });
    expect(removed.body[ENT].manager).toBeUndefined();
  });

  it('disables the user', async () => {
    const r = await call('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [compliant ? { op: 'replace', path: 'active', value: false } : { op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(r.status).toBe(200);
    expect(r.body.active).toBe(false);
    expect((await server.admin('GET', `/api/v1/identities/${id}`)).body.account.state).toBe('blocked');
  });

  it('deletes the user: 204, then 404', async () => {
    expect((await call('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await call('GET', `/Users/${id}`)).status).toBe(404);
  });

  it('tolerates a trailing slash on the base', async () => {
    const r = await server.http('GET', `${scim.base}/ServiceProviderConfig/`, { token: scim.token });
    expect(r.status).toBe(200);
  });
});
