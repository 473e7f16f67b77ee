import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@app/testing';
import { ChildServer } from '../support/child-server';

const ADMIN = 'async-crash-admin-token-0123456789';
const ASYNC = { prefer: 'respond-async' };

/**
 * RFC 9967 §2.5: a request answered 202 is accepted for good. `kill -9` after the 202 — before
 * it ran, or after its write but before its outcome was recorded — and the restarted server
 * completes it, once: no second user, and the outcome the client reads is the real one.
 * ASYNC_REQUEST_FAULT makes the first process stop at exactly that point.
 */
describe('asynchronous requests across kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-async-crash-'));
  let server: ChildServer | undefined;
  afterEach(async () => server?.kill('SIGKILL'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const env = { DATA_DIR: dir, ADMIN_TOKEN: ADMIN, RATE_LIMIT_PER_MINUTE: '1000000' };
  let token = '';
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
  };
  const user = (userName: string) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, name: { givenName: 'A', familyName: 'B' } });
  const usersNamed = async (base: string, userName: string) =>
    (await call('GET', `${base}/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.totalResults as number;
  const outcomeAfterRestart = async (location: string) =>
    waitFor(
      async () => {
        const r = await call('GET', location);
        return r.status === 200 ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: `the outcome at ${location}` },
    );

  it('completes a request accepted but not run (killed right after the 202), Bulk included', async () => {
    server = await ChildServer.start({ ...env, ASYNC_REQUEST_FAULT: 'hold', ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '0' });
    const issued = await fetch(`${server.url}/api/v1/scim/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'application' }),
    });
    token = ((await issued.json()) as { scim_token: string }).scim_token;
    const base = `${server.url}/api/scim/v2/application`;

    const single = await call('POST', `${base}/Users`, user('held@example.com'), ASYNC);
    expect(single.status).toBe(202);
    const bulk = await call(
      'POST',
      `${base}/Bulk`,
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'a', data: user('held-bulk@example.com') },
          { method: 'POST', path: '/Users', bulkId: 'b', data: user('held@example.com') },
        ],
      },
      ASYNC,
    );
    expect(bulk.status).toBe(202);
    expect((await call('GET', single.headers.get('location')!)).status).toBe(202);
    await server.kill('SIGKILL');

    server = await ChildServer.start({ ...env, ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '100' }, { port: Number(new URL(single.headers.get('location')!).port) });
    const done = await outcomeAfterRestart(single.headers.get('location')!);
    expect(done.Operations).toEqual([{ method: 'POST', status: '201', location: expect.stringContaining('/Users/'), version: expect.stringMatching(/^W\//) }]);
    // Accepted in that order, run in that order: the Bulk's second create finds the user taken.
    const bulkDone = await outcomeAfterRestart(bulk.headers.get('location')!);
    expect(bulkDone.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '409']);
    expect(await usersNamed(`${server.url}/api/scim/v2/application`, 'held@example.com')).toBe(1);
    expect(await usersNamed(`${server.url}/api/scim/v2/application`, 'held-bulk@example.com')).toBe(1);
  });

  it('does not run again a request whose write committed before the kill: one user, and its 201 as the outcome', async () => {
    server = await ChildServer.start({ ...env, ASYNC_REQUEST_FAULT: 'skip-completion', ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '0' });
    const base = `${server.url}/api/scim/v2/application`;
    const r = await call('POST', `${base}/Users`, user('half-done@example.com'), ASYNC);
    expect(r.status).toBe(202);
    await waitFor(async () => (await usersNamed(base, 'half-done@example.com')) === 1, { what: 'the write of the accepted request' });
    expect((await call('GET', r.headers.get('location')!)).status).toBe(202);
    await server.kill('SIGKILL');

    const port = Number(new URL(r.headers.get('location')!).port);
    server = await ChildServer.start({ ...env, ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '100' }, { port });
    const done = await outcomeAfterRestart(r.headers.get('location')!);
    expect(done.Operations).toEqual([{ method: 'POST', status: '201', location: expect.stringContaining('/Users/'), version: expect.stringMatching(/^W\//) }]);
    const users = await call('GET', `${base}/Users?filter=${encodeURIComponent('userName eq "half-done@example.com"')}`);
    expect(users.body.totalResults).toBe(1);
    expect(done.Operations[0].location).toBe(users.body.Resources[0].meta.location);
  });

  it('reports what a Bulk whose writes committed before the kill really did: its creates as 201 with their ids, not 409', async () => {
    server = await ChildServer.start({ ...env, ASYNC_REQUEST_FAULT: 'skip-completion', ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '0' });
    const base = `${server.url}/api/scim/v2/application`;
    const r = await call(
      'POST',
      `${base}/Bulk`,
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'u', data: user('bulk-done@example.com') },
          { method: 'POST', path: '/Users', bulkId: 'again', data: user('BULK-DONE@example.com') },
          { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'bulk-done', members: [{ value: 'bulkId:u' }] } },
        ],
      },
      ASYNC,
    );
    expect(r.status).toBe(202);
    const groups = async () => (await call('GET', `${base}/Groups?filter=${encodeURIComponent('displayName eq "bulk-done"')}`)).body;
    await waitFor(async () => (await groups()).totalResults === 1, { what: 'the writes of the accepted Bulk' });
    await server.kill('SIGKILL');

    server = await ChildServer.start({ ...env, ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '100' }, { port: Number(new URL(r.headers.get('location')!).port) });
    const done = await outcomeAfterRestart(r.headers.get('location')!);
    const users = await call('GET', `${base}/Users?filter=${encodeURIComponent('userName eq "bulk-done@example.com"')}`);
    expect(users.body.totalResults).toBe(1);
    const group = (await groups()).Resources[0];
    expect(done.Operations).toEqual([
      { method: 'POST', bulkId: 'u', status: '201', location: users.body.Resources[0].meta.location, version: users.body.Resources[0].meta.version },
      // It was a repeat the first time too: the same answer now.
      expect.objectContaining({ method: 'POST', bulkId: 'again', status: '409' }),
      { method: 'POST', bulkId: 'g', status: '201', location: group.meta.location, version: group.meta.version },
    ]);
    expect(group.members.map((m: { value: string }) => m.value)).toEqual([users.body.Resources[0].id]);
  }, 60_000);
});
