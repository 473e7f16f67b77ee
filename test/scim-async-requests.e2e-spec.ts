import { waitFor } from '@app/testing';
import { type ScimClient, TestServer, userBody } from './support/test-server';

const ASYNC = { prefer: 'respond-async' };

/** RFC 9967 §2.5 asynchronous requests: `Prefer: respond-async` → 202, then the outcome at `Location`. */
describe('asynchronous SCIM requests (Prefer: respond-async)', () => {
  let server: TestServer;
  let scim: ScimClient;

  beforeAll(async () => {
    server = await TestServer.start({ ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '0' });
    scim = await server.scim();
  });
  afterAll(() => server.stop());

  const outcome = async (location: string, token = scim.token) =>
    waitFor(
      async () => {
        const r = await server.http('GET', location, { token });
        return r.status === 200 ? r : undefined;
      },
      { what: `the outcome at ${location}` },
    );

  it('answers 202 with Set-Txn, Preference-Applied and Location once accepted, then runs the POST with that txn', async () => {
    const r = await scim.request('POST', '/Users', userBody('async-ada@example.com'), ASYNC);
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
    const txn = r.headers.get('set-txn')!;
    expect(txn).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('preference-applied')).toBe('respond-async');
    expect(r.headers.get('location')).toBe(`${scim.base}/AsyncRequests/${txn}`);

    const done = await outcome(r.headers.get('location')!);
    expect(done.headers.get('set-txn')).toBe(txn);
    expect(done.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    expect(done.body.Operations).toEqual([{ method: 'POST', status: '201', location: expect.stringContaining(`${scim.base}/Users/`), version: expect.stringMatching(/^W\//) }]);
    const user = await server.http('GET', done.body.Operations[0].location, { token: scim.token });
    expect(user.status).toBe(200);
    expect(user.body.userName).toBe('async-ada@example.com');

    // The events of the request carry the txn as their correlation id (the SCIM event `txn`).
    const audit = await server.http('GET', `/api/v1/audit/events?limit=100&until=2999-01-01T00:00:00Z&filter=${encodeURIComponent(`correlationId eq "${txn}"`)}`, {
      token: 'test-admin-token-0123456789abcdef',
    });
    expect(audit.status).toBe(200);
    expect(audit.body.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['AsyncRequestAccepted', 'UserProvisioned', 'AsyncRequestCompleted']));
  });

  it('records the domain outcome of a request that fails after acceptance (409), with the SCIM error', async () => {
    await scim.request('POST', '/Users', userBody('async-taken@example.com'));
    const r = await scim.request('POST', '/Users', userBody('async-taken@example.com'), ASYNC);
    expect(r.status).toBe(202);
    const done = await outcome(r.headers.get('location')!);
    expect(done.body.Operations).toEqual([{ method: 'POST', status: '409', response: expect.objectContaining({ status: '409', scimType: 'uniqueness' }) }]);
  });

  it('refuses a malformed body before accepting anything (400, no Set-Txn)', async () => {
    const r = await scim.request('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'] }, ASYNC);
    expect(r.status).toBe(400);
    expect(r.headers.get('set-txn')).toBeNull();
    const badId = await scim.request('DELETE', '/Users/alice@example.com', undefined, ASYNC);
    expect(badId.status).toBe(404);
    expect(badId.headers.get('set-txn')).toBeNull();
    const bulk = await scim.request('POST', '/Bulk', { Operations: 'nope' }, ASYNC);
    expect(bulk.status).toBe(400);
    expect(bulk.headers.get('set-txn')).toBeNull();
  });

  it('runs PATCH and DELETE asynchronously too', async () => {
    const created = await scim.request('POST', '/Users', userBody('async-patch@example.com'));
    const patch = await scim.request(
      'PATCH',
      `/Users/${created.body.id}`,
      { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] },
      ASYNC,
    );
    expect(patch.status).toBe(202);
    expect((await outcome(patch.headers.get('location')!)).body.Operations).toEqual([
      { method: 'PATCH', status: '200', location: `${scim.base}/Users/${created.body.id}`, version: expect.stringMatching(/^W\//) },
    ]);
    expect((await scim.request('GET', `/Users/${created.body.id}`)).body.active).toBe(false);

    const del = await scim.request('DELETE', `/Users/${created.body.id}`, undefined, ASYNC);
    expect(del.status).toBe(202);
    expect((await outcome(del.headers.get('location')!)).body.Operations).toEqual([{ method: 'DELETE', status: '204', location: `${scim.base}/Users/${created.body.id}` }]);
    expect((await scim.request('GET', `/Users/${created.body.id}`)).status).toBe(404);
  });

  it('runs Groups writes asynchronously, and the token of a group scope reads its own outcome', async () => {
    await server.createGroup('async-acme');
    const acme = await server.scim('async-acme');
    const r = await acme.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'async-eng' }, ASYNC);
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe(`${acme.base}/AsyncRequests/${r.headers.get('set-txn')}`);
    const done = await outcome(r.headers.get('location')!, acme.token);
    expect(done.body.Operations).toEqual([{ method: 'POST', status: '201', location: expect.stringContaining(`${acme.base}/Groups/`), version: expect.stringMatching(/^W\//) }]);
    const put = await server.http('PUT', done.body.Operations[0].location, {
      token: acme.token,
      body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'async-eng-2' },
      headers: { prefer: 'respond-async', 'if-match': 'W/"999"' },
    });
    expect(put.status).toBe(202);
    expect((await outcome(put.headers.get('location')!, acme.token)).body.Operations).toEqual([
      { method: 'PUT', status: '412', response: expect.objectContaining({ status: '412' }) },
    ]);
  });

  it('records one outcome per Bulk operation, a failing one included, in order', async () => {
    const r = await scim.request(
      'POST',
      '/Bulk',
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'b1', data: userBody('async-bulk1@example.com') },
          { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'async-bulk', members: [{ value: 'bulkId:b1' }] } },
          { method: 'PATCH', path: '/Users/00000000-0000-4000-8000-000000000000', data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] } },
        ],
      },
      ASYNC,
    );
    expect(r.status).toBe(202);
    const done = await outcome(r.headers.get('location')!);
    expect(done.body.Operations.map((o: { status: string; bulkId?: string }) => [o.status, o.bulkId])).toEqual([
      ['201', 'b1'],
      ['201', 'g1'],
      ['404', undefined],
    ]);
    expect(done.body.Operations[2].response).toMatchObject({ status: '404' });
    const group = await server.http('GET', done.body.Operations[1].location, { token: scim.token });
    expect(group.body.members).toHaveLength(1);
  });

  it('shows the outcome only to the token that made the request: another token, of this scope or another, gets 404', async () => {
    const r = await scim.request('POST', '/Users', userBody('async-private@example.com'), ASYNC);
    const location = r.headers.get('location')!;
    await outcome(location);
    const sameScope = await server.scim();
    expect((await server.http('GET', location, { token: sameScope.token })).status).toBe(404);
    await server.createGroup('async-other');
    const otherScope = await server.scim('async-other');
    const txn = r.headers.get('set-txn')!;
    expect((await otherScope.request('GET', `/AsyncRequests/${txn}`)).status).toBe(404);
    expect((await scim.request('GET', '/AsyncRequests/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await scim.request('GET', '/AsyncRequests/not-a-txn')).status).toBe(404);
  });

  it('with wait=N, answers a request that finishes in time normally (Prefer: wait, RFC 7240)', async () => {
    const r = await scim.request('POST', '/Users', userBody('async-wait@example.com'), { prefer: 'respond-async, wait=20' });
    expect(r.status).toBe(201);
    expect(r.body.userName).toBe('async-wait@example.com');
    expect(r.headers.get('location')).toBe(`${scim.base}/Users/${r.body.id}`);
    expect(r.headers.get('etag')).toMatch(/^W\//);
    expect(r.headers.get('preference-applied')).toBeNull();
  });

  it('with wait=N, answers 202 after N seconds when the request has not finished', async () => {
    // Fault injection: the request is accepted but not run, so it cannot finish within the wait.
    process.env.ASYNC_REQUEST_FAULT = 'hold';
    try {
      const started = Date.now();
      const r = await scim.request('POST', '/Users', userBody('async-slow@example.com'), { prefer: 'respond-async, wait=1' });
      expect(r.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(r.headers.get('preference-applied')).toBe('respond-async');
      expect((await server.http('GET', r.headers.get('location')!, { token: scim.token })).status).toBe(202);
    } finally {
      delete process.env.ASYNC_REQUEST_FAULT;
    }
  });

  it('leaves a request without respond-async alone (wait alone changes nothing)', async () => {
    const r = await scim.request('POST', '/Users', userBody('async-sync@example.com'), { prefer: 'wait=5' });
    expect(r.status).toBe(201);
    expect(r.headers.get('set-txn')).toBeNull();
  });
});
