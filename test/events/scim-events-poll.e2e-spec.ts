import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_TOKEN, type ScimClient, TestServer, userBody } from '../support/test-server';
import { shortUris, verifySet } from './receiver';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('SCIM events by poll (RFC 8936) over an SSF stream', () => {
  let server: TestServer;
  let scim: ScimClient;

  beforeAll(async () => {
    server = await TestServer.start({ SET_PUSH_DISABLED: 'true' });
    scim = await server.scim();
  });
  afterAll(() => server.stop());

  it('discovery names the endpoints and the JWKS', async () => {
    const r = await server.http('GET', '/.well-known/ssf-configuration');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ issuer: scim.base, jwks_uri: `${server.url}/api/ssf/jwks.json`, configuration_endpoint: `${scim.base}/ssf/stream` });
    expect(r.body.delivery_methods_supported).toEqual(['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936']);
  });

  it('a user created, deactivated and deleted arrives as signed SETs, once acknowledged never again', async () => {
    const created = await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' }, aud: 'https://receiver.example' });
    expect(created.status).toBe(201);
    const stream = created.body;
    expect(stream.delivery.endpoint_url).toBe(`${scim.base}/ssf/poll/${stream.stream_id}`);

    const user = await scim.request('POST', '/Users', userBody('poll.alice@example.com', { externalId: 'ext-alice' }));
    expect(user.status).toBe(201);
    const id = user.body.id as string;
    const patched = await scim.request('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(patched.status).toBe(200);
    expect((await scim.request('DELETE', `/Users/${id}`)).status).toBe(204);

    const poll = (body: unknown) => server.http('POST', stream.delivery.endpoint_url, { token: scim.token, body, headers: { 'content-type': 'application/json' } });
    const first = await poll({ returnImmediately: true, maxEvents: 10 });
    expect(first.status).toBe(200);
    expect(first.body.moreAvailable).toBe(false);
    const jtis = Object.keys(first.body.sets);
    const claims = [];
    for (const jti of jtis) {
      const c = await verifySet(first.body.sets[jti], `${server.url}/api/ssf/jwks.json`, { issuer: scim.base, audience: 'https://receiver.example' });
      expect(c.jti).toBe(jti);
      claims.push(c);
    }
    expect(claims.map(shortUris)).toEqual([['prov:create:notice'], ['prov:deactivate', 'prov:patch:notice'], ['prov:delete']]);
    for (const c of claims) expect(c.sub_id).toEqual({ format: 'scim', uri: `/Users/${id}`, externalId: 'ext-alice' });
    // Each SET carries its own request's txn; the version is the resource's ETag.
    expect(new Set(claims.map((c) => c.txn)).size).toBe(3);
    expect((claims[1].events as any)['urn:ietf:params:scim:event:prov:patch:notice']).toEqual({ attributes: ['active'], version: patched.headers.get('etag') });
    // The :notice default carries attribute names, never values.
    expect(JSON.stringify(claims)).not.toMatch(/poll\.alice|Test|User"|example\.com"/);

    // Not acknowledged: the same SETs again, byte for byte (Ed25519 and iat = toe).
    const again = await poll({ returnImmediately: true });
    expect(again.body.sets).toEqual(first.body.sets);

    const acked = await poll({ returnImmediately: true, ack: jtis });
    expect(acked.body).toEqual({ sets: {}, moreAvailable: false });
    const metrics = (await server.http('GET', '/metrics')).text;
    expect(metrics).toContain(`set_stream_lag_positions{stream="${stream.stream_id}"} 0`);
    expect(metrics).toContain(`set_stream_enabled{stream="${stream.stream_id}"} 1`);
  });

  it('maxEvents pages with moreAvailable; a paused stream holds its SETs', async () => {
    const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' } })).body;
    for (const n of [1, 2, 3]) expect((await scim.request('POST', '/Users', userBody(`page${n}@example.com`))).status).toBe(201);
    const poll = (body: unknown) => server.http('POST', stream.delivery.endpoint_url, { token: scim.token, body, headers: { 'content-type': 'application/json' } });
    const page = await poll({ returnImmediately: true, maxEvents: 2 });
    expect(Object.keys(page.body.sets)).toHaveLength(2);
    expect(page.body.moreAvailable).toBe(true);

    expect((await scim.request('POST', '/ssf/status', { stream_id: stream.stream_id, status: 'paused' })).status).toBe(200);
    expect((await poll({ returnImmediately: true })).body).toEqual({ sets: {}, moreAvailable: false });
    await scim.request('POST', '/ssf/status', { stream_id: stream.stream_id, status: 'enabled' });
    expect(Object.keys((await poll({ returnImmediately: true, ack: Object.keys(page.body.sets) })).body.sets)).toHaveLength(1);
  });

  it('a removed subject is a feed:remove and then silence; verification is a SET with the state asked for', async () => {
    const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' } })).body;
    const bob = (await scim.request('POST', '/Users', userBody('feed.bob@example.com'))).body.id as string;
    const subject = { format: 'scim', uri: `/Users/${bob}` };
    expect((await scim.request('POST', '/ssf/subjects/remove', { stream_id: stream.stream_id, subject })).status).toBe(204);
    await scim.request('PATCH', `/Users/${bob}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] });
    expect((await scim.request('POST', '/ssf/verify', { stream_id: stream.stream_id, state: 'check-123' })).status).toBe(204);
    const r = await server.http('POST', stream.delivery.endpoint_url, { token: scim.token, body: { returnImmediately: true }, headers: { 'content-type': 'application/json' } });
    const claims = [];
    for (const t of Object.values(r.body.sets) as string[]) claims.push(await verifySet(t, `${server.url}/api/ssf/jwks.json`, { issuer: scim.base, audience: stream.aud }));
    // Bob's create was not delivered yet: a removed subject's SETs stop at once (docs/decisions.md).
    expect(claims.map((c) => Object.keys(c.events as object))).toEqual([
      ['urn:ietf:params:scim:event:feed:remove'],
      ['https://schemas.openid.net/secevent/ssf/event-type/verification'],
    ]);
    expect((claims[1].events as any)['https://schemas.openid.net/secevent/ssf/event-type/verification']).toEqual({ state: 'check-123' });
  });

  it('an Entra-style group push: create with a member, add, remove, delete — in order, one txn per request', async () => {
    const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' }, events_requested: ['urn:ietf:params:scim:event:prov:create:notice', 'urn:ietf:params:scim:event:prov:patch:notice', 'urn:ietf:params:scim:event:prov:delete'] })).body;
    const a = (await scim.request('POST', '/Users', userBody('grp.a@example.com'))).body.id as string;
    const b = (await scim.request('POST', '/Users', userBody('grp.b@example.com'))).body.id as string;
    const g = (await scim.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Eng', members: [{ value: a }] })).body.id as string;
    const patch = (op: string, value: string) =>
      scim.request('PATCH', `/Groups/${g}`, { schemas: [PATCH_OP], Operations: [op === 'add' ? { op: 'Add', path: 'members', value: [{ value }] } : { op: 'Remove', path: `members[value eq "${value}"]` }] });
    expect((await patch('add', b)).status).toBeLessThan(300);
    expect((await patch('remove', a)).status).toBeLessThan(300);
    expect((await scim.request('DELETE', `/Groups/${g}`)).status).toBe(204);
    const r = await server.http('POST', stream.delivery.endpoint_url, { token: scim.token, body: { returnImmediately: true, maxEvents: 50 }, headers: { 'content-type': 'application/json' } });
    const claims = [];
    for (const t of Object.values(r.body.sets) as string[]) claims.push(await verifySet(t, `${server.url}/api/ssf/jwks.json`, { issuer: scim.base, audience: stream.aud }));
    const seen = claims.map((c) => `${shortUris(c).join('+')} ${(c.sub_id as { uri: string }).uri}`);
    expect(seen).toEqual([
      `prov:create:notice /Users/${a}`,
      `prov:create:notice /Users/${b}`,
      `prov:create:notice /Groups/${g}`,
      `prov:patch:notice /Groups/${g}`,
      `prov:patch:notice /Groups/${g}`,
      `prov:patch:notice /Groups/${g}`,
      `prov:delete /Groups/${g}`,
    ]);
    const txns = claims.map((c) => c.txn);
    expect(txns[2]).toBe(txns[3]); // the group's POST and its first member: one request
    expect(new Set(txns).size).toBe(6);
  });

  it('long poll returns as soon as a change is committed', async () => {
    const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' } })).body;
    const waiting = server.http('POST', stream.delivery.endpoint_url, { token: scim.token, body: { maxEvents: 5 }, headers: { 'content-type': 'application/json' } });
    expect((await scim.request('POST', '/Users', userBody('longpoll@example.com'))).status).toBe(201);
    const r = await waiting;
    expect(Object.keys(r.body.sets)).toHaveLength(1);
  });

  it('another scope’s token cannot see the stream; a push receiver must be https unless on loopback', async () => {
    const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' } })).body;
    await server.createGroup('acme');
    const other = await server.scim('acme');
    expect((await other.request('GET', `/ssf/stream?stream_id=${stream.stream_id}`)).status).toBe(404);
    const bad = await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'http://receiver.example/events' } });
    expect(bad.status).toBe(400);
    const ok = await server.admin('POST', '/api/scim/v2/application/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'http://127.0.0.1:9/events' } });
    expect(ok.status).toBe(201);

    // scimctl (the built CLI, with the admin token) lists the scope's streams and one's health.
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [join(__dirname, '..', '..', 'dist', 'apps', 'scimctl', 'src', 'main.js'), 'streams', ...args], {
        env: { ...process.env, SCIMCTL_URL: server.url, SCIMCTL_TOKEN: ADMIN_TOKEN },
      });
    expect((await cli('list')).stdout).toMatch(new RegExp(`^${ok.body.stream_id}\\s+push\\s+enabled`, 'm'));
    expect((await cli('status', stream.stream_id)).stdout).toMatch(/^method:\s+urn:ietf:rfc:8936$/m);
  });
});

describe('SET signing keys rotate with overlap', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start({ SET_PUSH_DISABLED: 'true' });
  });
  afterAll(() => server.stop());

  it('after a rotation the JWKS holds the old keys and the new ones, and new SETs use a new kid', async () => {
    const scim = await server.scim();
    const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' }, signing_alg: 'ES256' })).body;
    const before = (await server.http('GET', '/api/ssf/jwks.json')).body.keys as { kid: string; alg: string }[];
    expect(before.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA']);
    expect((await server.admin('POST', '/api/v1/ssf/keys/rotate')).status).toBe(201);
    const after = (await server.http('GET', '/api/ssf/jwks.json')).body.keys as { kid: string }[];
    expect(after).toHaveLength(4);
    expect(after.map((k) => k.kid)).toEqual(expect.arrayContaining(before.map((k) => k.kid)));

    await scim.request('POST', '/Users', userBody('rotated@example.com'));
    const sets = (await server.http('POST', stream.delivery.endpoint_url, { token: scim.token, body: { returnImmediately: true }, headers: { 'content-type': 'application/json' } })).body.sets;
    const [token] = Object.values(sets) as string[];
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt' });
    expect(before.map((k) => k.kid)).not.toContain(header.kid);
    await verifySet(token, `${server.url}/api/ssf/jwks.json`, { issuer: scim.base, audience: stream.aud });
  });
});

describe('poll acknowledgements survive a restart', () => {
  it('after a restart only the unacknowledged SET comes again, with the same jti and bytes', async () => {
    let server = await TestServer.start({ SET_PUSH_DISABLED: 'true' });
    try {
      const scim = await server.scim();
      const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8936' } })).body;
      await scim.request('POST', '/Users', userBody('restart1@example.com'));
      await scim.request('POST', '/Users', userBody('restart2@example.com'));
      const firstUrl = server.url;
      // The restarted server listens on a new port; the stream's path is the same.
      const poll = (s: TestServer, body: unknown) => s.http('POST', stream.delivery.endpoint_url.replace(firstUrl, s.url), { token: scim.token, body, headers: { 'content-type': 'application/json' } });
      const first = (await poll(server, { returnImmediately: true })).body.sets as Record<string, string>;
      const [acked, kept] = Object.keys(first);
      await poll(server, { returnImmediately: true, ack: [acked], maxEvents: 0 });
      const dir = server.dataDir;
      await server.stop(false);
      server = await TestServer.start({ SET_PUSH_DISABLED: 'true' }, dir);
      const again = (await poll(server, { returnImmediately: true })).body.sets as Record<string, string>;
      expect(again).toEqual({ [kept]: first[kept] });
    } finally {
      await server.stop();
    }
  });
});
