import { type ScimClient, TestServer, userBody } from './support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const f = (filter: string) => encodeURIComponent(filter);

async function users(scim: ScimClient, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await scim.request('POST', '/Users', userBody(`${prefix}${i}@groups.test`))).body.id);
  return ids;
}
const memberIds = (g: { members?: { value: string }[] }) => (g.members ?? []).map((m) => m.value).sort();

describe.each([
  ['instance scope', undefined],
  ['group scope', 'tenant'],
])('SCIM Groups (%s)', (_label, groupPath) => {
  let server: TestServer;
  let scim: ScimClient;
  beforeAll(async () => {
    server = await TestServer.start();
    if (groupPath) await server.createGroup(groupPath);
    scim = await server.scim(groupPath);
  });
  afterAll(() => server.stop());

  it('Okta group push: empty filter check, create, mixed PATCH, replace members, rename, delete', async () => {
    const [u1, u2, u3, u4] = await users(scim, 'okta', 4);
    const check = await scim.request('GET', `/Groups?filter=${f('displayName eq "Okta Push"')}`);
    expect(check.body).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Okta Push', members: [{ value: u1 }, { value: u2 }] });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(created.body.meta.location);
    expect(memberIds(created.body)).toEqual([u1, u2].sort());
    const gid = created.body.id;

    const mixed = await scim.request('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'remove', path: `members[value eq "${u1}"]` },
        { op: 'add', path: 'members', value: [{ value: u3 }] },
      ],
    });
    expect(mixed.status).toBe(204);
    expect(memberIds((await scim.request('GET', `/Groups/${gid}`)).body)).toEqual([u2, u3].sort());

    await scim.request('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'members', value: [{ value: u4 }] }] });
    expect(memberIds((await scim.request('GET', `/Groups/${gid}`)).body)).toEqual([u4]);

    const renamed = await scim.request('PATCH', `/Groups/${gid}?attributes=displayName`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id: gid, displayName: 'Okta Pushed' } }],
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.displayName).toBe('Okta Pushed');

    const user = (await scim.request('GET', `/Users/${u4}`)).body;
    expect(user.groups).toEqual([expect.objectContaining({ value: gid, display: 'Okta Pushed' })]);

    expect((await scim.request('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await scim.request('GET', `/Groups/${gid}`)).status).toBe(404);
    expect((await scim.request('GET', `/Users/${u4}`)).body.groups).toBeUndefined();
  });

  it('Entra group provisioning: match without members, create with the extra schema, add several, remove listed, rename, delete', async () => {
    const [a, b, c] = await users(scim, 'entra', 3);
    const match = await scim.request('GET', `/Groups?excludedAttributes=members&filter=${f('displayName eq "Entra Team"')}`);
    expect(match.body.totalResults).toBe(0);
    const created = await scim.request('POST', '/Groups', {
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '4d3c-entra-object-id',
      displayName: 'Entra Team',
      members: [],
    });
    expect(created.status).toBe(201);
    const gid = created.body.id;
    const add = await scim.request('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: a }, { $ref: null, value: b }, { $ref: null, value: c }] }],
    });
    expect(add.status).toBe(204);
    await scim.request('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ value: b }] }] });
    const got = await scim.request('GET', `/Groups/${gid}`);
    expect(memberIds(got.body)).toEqual([a, c].sort());
    expect(got.body.members.find((m: { value: string }) => m.value === a)).toMatchObject({ display: expect.any(String), type: 'User' });
    const light = await scim.request('GET', `/Groups/${gid}?excludedAttributes=members`);
    expect(light.body.members).toBeUndefined();
    expect(light.body.externalId).toBe('4d3c-entra-object-id');
    await scim.request('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'displayName', value: 'Entra Team 2' }] });
    expect((await scim.request('GET', `/Groups?filter=${f('displayName eq "entra team 2"')}`)).body.totalResults).toBe(1);
    expect((await scim.request('DELETE', `/Groups/${gid}`)).status).toBe(204);
  });

  it('refuses unknown member ids by count and position, never echoing them, and a duplicate displayName with 409', async () => {
    const created = await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Unique Name' });
    const dup = await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'UNIQUE name' });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
    const ghost = '00000000-0000-4000-8000-00000000dead';
    const r = await scim.request('PATCH', `/Groups/${created.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: ghost }] }] });
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(r.body.detail).not.toContain(ghost);
    expect(r.body.detail).toContain('1 of the 1 members added does not refer to a user in this scope');
    // An IdP that sends an email as a member value (POST and PATCH) does not get it back.
    const [known] = await users(scim, 'echo', 1);
    const email = 'jane.doe@private.example';
    const posted = await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Echo', members: [{ value: known }, { value: email }] });
    expect(posted.status).toBe(400);
    expect(posted.text).not.toContain('jane.doe');
    expect(posted.body.detail).toContain('number 2 of the members added');
    const patched = await scim.request('PATCH', `/Groups/${created.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: email }] }] });
    expect(patched.status).toBe(400);
    expect(patched.text).not.toContain('jane.doe');
  });

  it("a user's ETag follows group membership changes, so If-Match from a GET still works", async () => {
    const [u] = await users(scim, 'etag', 1);
    await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'ETag Group', members: [{ value: u }] });
    const got = await scim.request('GET', `/Users/${u}`);
    const patched = await scim.request('PATCH', `/Users/${u}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, { 'if-match': got.headers.get('etag') as string });
    expect(patched.status).toBe(200);
  });

  it('pages and filters groups', async () => {
    for (let i = 0; i < 3; i++) await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: `Paged ${i}` });
    const page = await scim.request('GET', `/Groups?filter=${f('displayName sw "Paged"')}&startIndex=2&count=1&excludedAttributes=members`);
    expect(page.body).toMatchObject({ totalResults: 3, itemsPerPage: 1, startIndex: 2 });
    expect(page.body.Resources[0].displayName).toBe('Paged 1');
  });
});

describe('SCIM group sync through SAML group links', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
    await server.createGroup('acme');
    await server.createGroup('eng', { parentPath: 'acme' });
    await server.createGroup('other');
  });
  afterAll(() => server.stop());

  const members = async (path: string) => (await server.admin('GET', `/api/v1/groups/${encodeURIComponent(path)}/members`)).body as { accountId: string; accessLevel: string; source: string }[];
  const accountOf = async (scimId: string) => (await server.admin('GET', `/api/v1/identities/${scimId}`)).body.account.id as string;

  it('grants the highest level across SCIM groups, keeps access from other groups on removal, and recomputes on delete', async () => {
    expect((await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'eng-devs', groupPath: 'acme/eng', accessLevel: 'developer' })).status).toBe(201);
    expect((await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'eng-leads', groupPath: 'acme/eng', accessLevel: 'maintainer' })).status).toBe(201);
    const scim = await server.scim();
    const u = (await scim.request('POST', '/Users', userBody('sync@acme.test'))).body.id;
    const account = await accountOf(u);
    const devs = (await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'eng-devs', members: [{ value: u }] })).body.id;
    expect(await members('acme/eng')).toEqual([expect.objectContaining({ accountId: account, accessLevel: 'developer', source: 'scim_group_sync' })]);
    const leads = (await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'eng-leads', members: [{ value: u }] })).body.id;
    expect((await members('acme/eng'))[0].accessLevel).toBe('maintainer');
    await scim.request('PATCH', `/Groups/${leads}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${u}"]` }] });
    expect((await members('acme/eng'))[0].accessLevel).toBe('developer');
    await scim.request('DELETE', `/Groups/${devs}`);
    expect(await members('acme/eng')).toEqual([]);
  });

  it('a link added later grants access to existing members; a rename moves access to the new name', async () => {
    const scim = await server.scim();
    const u = (await scim.request('POST', '/Users', userBody('later@acme.test'))).body.id;
    const account = await accountOf(u);
    const g = (await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'reporters', members: [{ value: u }] })).body.id;
    expect((await members('acme')).some((m) => m.accountId === account)).toBe(false);
    await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'reporters', groupPath: 'acme', accessLevel: 'reporter' });
    expect((await members('acme')).find((m) => m.accountId === account)?.accessLevel).toBe('reporter');
    await scim.request('PATCH', `/Groups/${g}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'not-linked' }] });
    expect((await members('acme')).some((m) => m.accountId === account)).toBe(false);
  });

  it('a group-scope SCIM group drives only links inside its own top-level group', async () => {
    await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'cross', groupPath: 'acme', accessLevel: 'guest' });
    await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'cross', groupPath: 'other', accessLevel: 'guest' });
    const acme = await server.scim('acme');
    const u = (await acme.request('POST', '/Users', userBody('scoped@acme.test'))).body.id;
    const account = await accountOf(u);
    await acme.request('POST', '/Groups', { schemas: [GROUP], displayName: 'cross', members: [{ value: u }] });
    expect((await members('other')).some((m) => m.accountId === account)).toBe(false);
    expect((await members('acme')).some((m) => m.accountId === account)).toBe(true);
  });

  it('deactivating a group-scope identity suspends what its SCIM groups grant; reactivation restores it', async () => {
    await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'suspend-me', groupPath: 'acme/eng', accessLevel: 'developer' });
    const acme = await server.scim('acme');
    const u = (await acme.request('POST', '/Users', userBody('suspend@acme.test'))).body.id;
    const account = await accountOf(u);
    await acme.request('POST', '/Groups', { schemas: [GROUP], displayName: 'suspend-me', members: [{ value: u }] });
    expect((await members('acme/eng')).some((m) => m.accountId === account)).toBe(true);
    await acme.request('PATCH', `/Users/${u}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect((await members('acme/eng')).some((m) => m.accountId === account)).toBe(false);
    await acme.request('PATCH', `/Users/${u}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] });
    expect((await members('acme/eng')).find((m) => m.accountId === account)?.accessLevel).toBe('developer');
    expect((await members('acme')).find((m) => m.accountId === account)?.accessLevel).toBe('guest');
  });
});
