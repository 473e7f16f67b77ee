import { type ScimClient, TestServer, userBody } from './support/test-server';

describe('SCIM Bulk and discovery', () => {
  let server: TestServer;
  let scim: ScimClient;
  beforeAll(async () => {
    server = await TestServer.start({ SCIM_BULK_MAX_OPERATIONS: '5' });
    scim = await server.scim();
  });
  afterAll(() => server.stop());

  it('runs operations in order, resolving bulkId references, and reports each status', async () => {
    const r = await scim.request('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u1', data: userBody('bulk1@example.com') },
        { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Bulk Group', members: [{ value: 'bulkId:u1' }] } },
        { method: 'PATCH', path: '/Users/bulkId:u1', data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Bulked' }] } },
        { method: 'POST', path: '/Users', bulkId: 'dup', data: userBody('bulk1@example.com') },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    expect(r.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '201', '200', '409']);
    expect(r.body.Operations[0].location).toMatch(/\/Users\/[0-9a-f-]{36}$/);
    expect(r.body.Operations[3].response.scimType).toBe('uniqueness');
    const userId = r.body.Operations[0].location.split('/').pop();
    const user = await scim.request('GET', `/Users/${userId}`);
    expect(user.body).toMatchObject({ title: 'Bulked', groups: [expect.objectContaining({ display: 'Bulk Group' })] });
  });

  it('stops after failOnErrors errors and refuses more operations than advertised', async () => {
    const r = await scim.request('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [] } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: userBody('never-created@example.com') },
      ],
    });
    expect(r.body.Operations).toHaveLength(1);
    expect(r.body.Operations[0].status).toBe('400');
    expect((await scim.request('GET', `/Users?filter=${encodeURIComponent('userName eq "never-created@example.com"')}`)).body.totalResults).toBe(0);
    const tooMany = await scim.request('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: 6 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` })),
    });
    expect(tooMany.status).toBe(413);
    expect((await scim.request('GET', '/ServiceProviderConfig')).body.bulk.maxOperations).toBe(5);
  });

  it('serves discovery with auth, 404 for unknown ids, 405 for other methods, 501 for /Me', async () => {
    expect((await scim.request('GET', '/ResourceTypes/User')).body.schemaExtensions).toHaveLength(1);
    expect((await scim.request('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group')).body.id).toBe('urn:ietf:params:scim:schemas:core:2.0:Group');
    expect((await scim.request('GET', '/Schemas/urn:nope')).status).toBe(404);
    expect((await scim.request('GET', '/ResourceTypes/Nope')).status).toBe(404);
    const wrong = await scim.request('POST', '/ServiceProviderConfig', {});
    expect(wrong.status).toBe(405);
    expect(wrong.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect((await scim.request('GET', '/Me')).status).toBe(501);
    expect((await server.http('GET', `${scim.base}/Schemas`)).status).toBe(401);
  });
});
