import { type ScimClient, TestServer } from '../support/test-server';

/**
 * Okta's public "SCIM 2.0 SPEC Test" (the Runscope suite Okta asks integrators to pass),
 * restated step by step with the same requests and assertions.
 */
describe('Okta SCIM 2.0 SPEC test', () => {
  let server: TestServer;
  let scim: ScimClient;
  const digits = () => String(Math.floor(Math.random() * 1000)).padStart(3, '0');
  const givenName = `Runscope${digits()}`;
  const familyName = `Abcdefgh${digits()}`;
  const email = `${givenName}${familyName}@atko.com`;
  let seededId: string;
  let createdId: string;

  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
    // The suite expects at least one user to exist (its first step reads Resources[0]).
    const seeded = await scim.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'seed.user@atko.com',
      name: { givenName: 'Seed', familyName: 'User' },
      emails: [{ primary: true, value: 'seed.user@atko.com', type: 'work' }],
      active: true,
    });
    // The whole answer, so that a failure here shows the server's reason.
    expect({ status: seeded.status, body: seeded.body }).toMatchObject({ status: 201 });
  });
  afterAll(() => server.stop());

  it('1. GET /Users?count=1&startIndex=1 returns a ListResponse with a complete user', async () => {
    const r = await scim.request('GET', '/Users?count=1&startIndex=1');
    expect(r.status).toBe(200);
    expect(r.body.schemas).toContain('urn:ietf:params:scim:api:messages:2.0:ListResponse');
    expect(typeof r.body.itemsPerPage).toBe('number');
    expect(typeof r.body.startIndex).toBe('number');
    expect(typeof r.body.totalResults).toBe('number');
    const u = r.body.Resources[0];
    expect(u.id).toBeTruthy();
    expect(u.name.familyName).toBeTruthy();
    expect(u.name.givenName).toBeTruthy();
    expect(u.userName).toBeTruthy();
    expect(u.active).toBe(true);
    expect(u.emails[0].value).toBeTruthy();
    seededId = u.id;
  });

  it('2. GET /Users/{id} returns that user', async () => {
    const r = await scim.request('GET', `/Users/${seededId}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: seededId, name: { familyName: 'User', givenName: 'Seed' }, active: true });
    expect(r.body.emails[0].value).toBeTruthy();
  });

  it('3. a filter for an unknown userName returns 200 with totalResults 0', async () => {
    const r = await scim.request('GET', `/Users?filter=${encodeURIComponent('userName eq "abcdefgh@atko.com"')}`);
    expect(r.status).toBe(200);
    expect(r.body.schemas).toContain('urn:ietf:params:scim:api:messages:2.0:ListResponse');
    expect(r.body.totalResults).toBe(0);
  });

  it('4. an unknown id returns 404 with a SCIM error', async () => {
    const r = await scim.request('GET', '/Users/010101001010101011001010101011');
    expect(r.status).toBe(404);
    expect(r.body.detail).toBeTruthy();
    expect(r.body.schemas).toContain('urn:ietf:params:scim:api:messages:2.0:Error');
  });

  it('5. the random user does not exist yet', async () => {
    const r = await scim.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`);
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(0);
  });

  it('6. POST /Users with realistic values creates it', async () => {
    const r = await scim.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: email,
      name: { givenName, familyName },
      emails: [{ primary: true, value: email, type: 'work' }],
      displayName: `${givenName} ${familyName}`,
      active: true,
    });
    expect(r.status).toBe(201);
    expect(r.body.active).toBe(true);
    expect(r.body.id).toBeTruthy();
    expect(r.body.name).toMatchObject({ familyName, givenName });
    expect(r.body.schemas).toContain('urn:ietf:params:scim:schemas:core:2.0:User');
    expect(r.body.userName).toBe(email);
    expect(r.headers.get('location')).toBe(r.body.meta.location);
    createdId = r.body.id;
  });

  it('7. GET /Users/{id} shows the created user', async () => {
    const r = await scim.request('GET', `/Users/${createdId}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ userName: email, name: { familyName, givenName } });
  });

  it('8. creating the same user again is 409', async () => {
    const r = await scim.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: email,
      name: { givenName, familyName },
      emails: [{ primary: true, value: email, type: 'work' }],
      displayName: `${givenName} ${familyName}`,
      active: true,
    });
    expect(r.status).toBe(409);
    expect(r.body.scimType).toBe('uniqueness');
  });

  it('9. userName filters are case-insensitive', async () => {
    const r = await scim.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${email.toUpperCase()}"`)}`);
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(1);
    expect(r.body.Resources[0].id).toBe(createdId);
  });

  it('10. (optional) GET /Groups answers 200', async () => {
    const r = await scim.request('GET', '/Groups');
    expect(r.status).toBe(200);
  });

  it('11. a request without a valid token is 401 with a SCIM error', async () => {
    const r = await server.http('GET', `${scim.base}/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`);
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ status: '401', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
    expect(r.body.detail).toBeTruthy();
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('12. a non-UUID id is 404 with a SCIM error', async () => {
    const r = await scim.request('GET', '/Users/00919288221112222');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ status: '404', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
  });
});
