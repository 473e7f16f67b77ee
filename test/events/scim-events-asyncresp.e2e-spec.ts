import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JWTPayload } from 'jose';
import { waitFor } from '@app/testing';
import { type ScimClient, TestServer, userBody } from '../support/test-server';
import { shortUris, verifySet } from './receiver';

const ASYNC = { prefer: 'respond-async' };
const ASYNCRESP = 'urn:ietf:params:scim:event:misc:asyncresp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * RFC 9967 asynchronous requests seen from a receiver: the 202's `Set-Txn` comes back as the
 * `txn` of the request's change events and of its `misc:asyncresp` (a Bulk's as `<txn>:<index>`,
 * one per operation), verified with jose against the JWKS.
 */
describe('misc:asyncresp on a poll stream', () => {
  let server: TestServer;
  let scim: ScimClient;
  let pollUrl: string;
  let audience: string;

  beforeAll(async () => {
    server = await TestServer.start({ SET_PUSH_DISABLED: 'true', ASYNC_REQUEST_RECOVERY_INTERVAL_MS: '0' });
    scim = await server.scim();
    const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' } })).body;
    pollUrl = stream.delivery.endpoint_url;
    audience = stream.aud;
  });
  afterAll(() => server.stop());

  /** Polls (and acknowledges) until the SETs of `txn` include `count` asyncresp events; returns that txn's SETs, verified. */
  const setsOf = async (txn: string, count: number): Promise<JWTPayload[]> => {
    const mine: JWTPayload[] = [];
    const isAsyncresp = (c: JWTPayload) => Object.keys(c.events as object).includes(ASYNCRESP);
    await waitFor(
      async () => {
        const r = await server.http('POST', pollUrl, { token: scim.token, body: { returnImmediately: true, maxEvents: 50 }, headers: { 'content-type': 'application/json' } });
        const sets = r.body.sets as Record<string, string>;
        for (const token of Object.values(sets)) {
          const c = await verifySet(token, `${server.url}/api/ssf/jwks.json`, { issuer: scim.base, audience });
          if (String(c.txn).split(':')[0] === txn) mine.push(c);
        }
        await server.http('POST', pollUrl, { token: scim.token, body: { returnImmediately: true, maxEvents: 0, ack: Object.keys(sets) }, headers: { 'content-type': 'application/json' } });
        return mine.filter(isAsyncresp).length >= count;
      },
      { timeoutMs: 15_000, what: `${count} misc:asyncresp SETs of ${txn}` },
    );
    return mine;
  };

  it('an async POST gives its prov:create and then misc:asyncresp, both with the Set-Txn of the 202', async () => {
    const r = await scim.request('POST', '/Users', userBody('asyncresp.ada@example.com', { externalId: 'ext-ada' }), ASYNC);
    expect(r.status).toBe(202);
    const txn = r.headers.get('set-txn') as string;
    const claims = await setsOf(txn, 1);
    expect(claims.map(shortUris)).toEqual([['prov:create:notice'], ['misc:asyncresp']]);
    expect(claims.map((c) => c.txn)).toEqual([txn, txn]);
    const [created, done] = claims;
    const id = (created.sub_id as { uri: string }).uri.replace('/Users/', '');
    expect(done.sub_id).toEqual({ format: 'scim', uri: `/Users/${id}`, externalId: 'ext-ada' });
    const user = await scim.request('GET', `/Users/${id}`);
    expect((done.events as Record<string, unknown>)[ASYNCRESP]).toEqual({ method: 'POST', status: '201', location: `${scim.base}/Users/${id}`, version: user.headers.get('etag') });
  });

  it('an async Bulk with a failing operation gives one misc:asyncresp per operation, txn <Set-Txn>:<index>, the failure with its response', async () => {
    const r = await scim.request(
      'POST',
      '/Bulk',
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'u1', data: userBody('asyncresp.bulk@example.com') },
          { method: 'PATCH', path: '/Users/00000000-0000-4000-8000-000000000000', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] } },
          { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [GROUP], displayName: 'asyncresp-eng' } },
        ],
      },
      ASYNC,
    );
    expect(r.status).toBe(202);
    const txn = r.headers.get('set-txn') as string;
    const claims = await setsOf(txn, 3);
    const seen = claims.map((c) => `${shortUris(c).join('+')} ${c.txn}`);
    expect(seen).toEqual([`prov:create:notice ${txn}`, `prov:create:notice ${txn}`, `misc:asyncresp ${txn}:0`, `misc:asyncresp ${txn}:1`, `misc:asyncresp ${txn}:2`]);
    const [userUri, groupUri] = claims.slice(0, 2).map((c) => (c.sub_id as { uri: string }).uri);
    expect(userUri).toMatch(/^\/Users\//);
    expect(groupUri).toMatch(/^\/Groups\//);
    const payloads = claims.slice(2).map((c) => (c.events as Record<string, Record<string, unknown>>)[ASYNCRESP]);
    const etag = async (uri: string) => (await scim.request('GET', uri)).headers.get('etag');
    expect(payloads[0]).toEqual({ method: 'POST', status: '201', bulkId: 'u1', location: `${scim.base}${userUri}`, version: await etag(userUri) });
    expect(payloads[1]).toEqual({ method: 'PATCH', status: '404', response: expect.objectContaining({ status: '404' }) });
    expect(payloads[1]).not.toHaveProperty('location');
    expect(payloads[2]).toEqual({ method: 'POST', status: '201', bulkId: 'g1', location: `${scim.base}${groupUri}`, version: await etag(groupUri) });
    // The operations with a resource name it; the failed one has no subject.
    expect(claims.slice(2).map((c) => (c.sub_id as { uri?: string } | undefined)?.uri)).toEqual([userUri, undefined, groupUri]);
    // What the receiver got is what GET Location answers.
    const outcome = await server.http('GET', r.headers.get('location') as string, { token: scim.token });
    expect(outcome.body.Operations.map((o: { status: string }) => o.status)).toEqual(payloads.map((p) => p.status));
  });
});
