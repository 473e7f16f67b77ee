import Database from 'better-sqlite3';
import fc from 'fast-check';
import { join } from 'node:path';
import { ADMIN_TOKEN, type ScimClient, TestServer, userBody } from '../support/test-server';

const RUNS = 10_000;

/**
 * A generated corpus of malformed requests over the SCIM and management routes: broken
 * JSON, wrong types, huge and deeply nested bodies, bad filters and PATCH paths, odd
 * Unicode, hostile ids and prototype-poisoning keys. Every one gets a 4xx with an error
 * body — never a 5xx, never a crash — and the log gains no event but the rejections.
 */
describe('hostile input', () => {
  let server: TestServer;
  let scim: ScimClient;
  let userId: string;
  let groupId: string;
  let db: Database.Database;
  const stateEvents = () => (db.prepare("SELECT COUNT(*) AS n FROM events WHERE type != 'ProvisioningRejected'").get() as { n: number }).n;

  beforeAll(async () => {
    server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '100000000', MAX_PAYLOAD_BYTES: '65536' });
    await server.createGroup('fuzz');
    scim = await server.scim();
    userId = (await scim.request('POST', '/Users', userBody('fuzz@example.com'))).body.id;
    groupId = (await scim.request('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Fuzz' })).body.id;
    db = new Database(join(server.dataDir, 'scim.db'), { readonly: true });
  });
  afterAll(async () => {
    db.close();
    await server.stop();
  });

  const weird = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('../../etc/passwd', '%00', '\u0000', '\uFFFF', 'a\u202Eb', '🦄'.repeat(50), '"', '\\', "' OR 1=1 --", '%', '_'),
  );
  const hostileKeys = fc.constantFrom('__proto__', 'constructor', 'prototype');
  const nested = fc.integer({ min: 50, max: 3000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));
  const brokenJson = fc.oneof(
    fc.constantFrom('{', '{"userName":', '[1,2', 'nul', '{"a":1,}', '\u0000', '{"userName":"x"}}', 'true false'),
    nested.map((s) => `{"userName":"deep","x":${s.slice(0, -1)}`),
    fc.string({ maxLength: 200 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    }),
  );
  const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));
  const invalidUser = fc.oneof(
    fc.record({ userName: wrongType.filter((v) => typeof v !== 'string') }),
    fc.record({ name: weird, emails: fc.constant([]) }),
    fc.record({ userName: weird.filter((s) => s.trim() !== ''), active: fc.oneof(fc.integer(), fc.constant('maybe')) }),
    fc.record({ userName: weird.filter((s) => s.trim() !== ''), emails: fc.constant([{ value: 'a@x', primary: true }, { value: 'b@x', primary: true }]) }),
    fc.record({ userName: fc.constant('x'.repeat(5000)) }),
    hostileKeys.map((k) => JSON.parse(`{"${k}":{"admin":true},"userName":5}`)),
  );
  const badPatch = fc.oneof(
    fc.record({ Operations: fc.constant([]) }),
    fc.record({ Operations: fc.array(fc.record({ op: weird.filter((s) => !['add', 'replace', 'remove'].includes(s.toLowerCase())), path: weird, value: wrongType }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ Operations: fc.constant([{ op: 'replace', path: 'nosuch.attr', value: 1 }]) }),
    fc.record({ Operations: fc.constant([{ op: 'replace', path: 'id', value: 'x' }]) }),
    fc.record({ Operations: fc.constant([{ op: 'remove' }]) }),
    fc.record({ Operations: weird.map((p) => [{ op: 'replace', path: `emails[${p}`, value: 'x' }]) }),
    fc.record({ Operations: fc.constant([{ op: 'add', path: 'members', value: [{ value: '00000000-0000-4000-8000-000000000000' }] }]) }),
    fc.record({ Operations: fc.constant([{ op: 'replace', path: 'active', value: 12 }]) }),
  );
  const hostileId = fc.oneof(weird, fc.constantFrom('..%2F..%2Fadmin', '%00', '..', '00000000-0000-4000-8000-000000000000', 'x'.repeat(2000)));
  const badFilter = fc.oneof(weird, fc.constantFrom('userName eq', 'nosuch eq "x"', 'userName zz "a"', '((((', 'emails[type eq "work"', 'not userName eq "x"', 'userName eq "x" or', 'meta.created gt "nope"'));
  const enc = encodeURIComponent;

  type Req = { method: string; path: string; raw?: string; body?: unknown; token?: string; headers?: Record<string, string>; write: boolean };
  const request: fc.Arbitrary<Req> = fc.oneof(
    brokenJson.map((raw) => ({ method: 'POST', path: '/Users', raw, write: true })),
    invalidUser.map((body) => ({ method: 'POST', path: '/Users', body, write: true })),
    invalidUser.map((body) => ({ method: 'PUT', path: `/Users/${userId}`, body, write: true })),
    badPatch.map((body) => ({ method: 'PATCH', path: `/Users/${userId}`, body, write: true })),
    badPatch.map((body) => ({ method: 'PATCH', path: `/Groups/${groupId}`, body, write: true })),
    brokenJson.map((raw) => ({ method: 'PATCH', path: `/Users/${userId}`, raw, write: true })),
    hostileId.map((id) => ({ method: 'DELETE', path: `/Users/${enc(id)}`, write: true })),
    hostileId.map((id) => ({ method: 'GET', path: `/Users/${enc(id)}`, write: false })),
    hostileId.map((id) => ({ method: 'PATCH', path: `/Groups/${enc(id)}`, body: { Operations: [{ op: 'remove', path: 'members' }] }, write: true })),
    badFilter.map((f) => ({ method: 'GET', path: `/Users?filter=${enc(f)}&startIndex=${enc(f)}`, write: false })),
    badFilter.map((f) => ({ method: 'POST', path: '/Users/.search', body: { filter: f, count: 'many' }, write: false })),
    fc.record({ Operations: fc.array(fc.record({ method: weird, path: weird }), { minLength: 1, maxLength: 3 }) }).map((body) => ({ method: 'POST', path: '/Bulk', body, write: true })),
    weird.map((w) => ({ method: 'POST', path: '/Groups', body: { displayName: w.trim() === '' ? 5 : w, members: [{ value: 5 }] }, write: true })),
    fc.constant({ method: 'POST', path: '/Users', raw: JSON.stringify({ userName: 'big', pad: 'x'.repeat(70_000) }), write: true }),
    fc.stringMatching(/^[A-Za-z0-9_\-.~+/=]{0,60}$/).map((t) => ({ method: 'POST', path: '/Users', body: userBody('never@example.com'), token: `scimtok_${t}`, write: true })),
    fc.constant({ method: 'DELETE', path: '/ServiceProviderConfig', write: true }),
    fc.constant({ method: 'POST', path: '/Users', raw: '<xml/>', headers: { 'content-type': 'application/xml' }, write: true }),
    // Management routes
    invalidUser.map((body) => ({ method: 'POST', path: 'MGMT/api/v1/groups', body, write: true })),
    weird.map((w) => ({ method: 'POST', path: 'MGMT/api/v1/scim/tokens', body: { scope: w }, write: true })),
    weird.map((w) => ({ method: 'POST', path: 'MGMT/api/v1/tokens', body: { role: w, pii: 'yes' }, write: true })),
    weird.map((w) => ({ method: 'POST', path: 'MGMT/api/v1/saml-group-links', body: { samlGroupName: 5, groupPath: w, accessLevel: 'god' }, write: true })),
    hostileId.map((id) => ({ method: 'PUT', path: `MGMT/api/v1/groups/fuzz/members/${enc(id)}`, body: { accessLevel: 'owner' }, write: true })),
    hostileId.map((id) => ({ method: 'GET', path: `MGMT/api/v1/identities/${enc(id)}`, write: false })),
    brokenJson.map((raw) => ({ method: 'POST', path: 'MGMT/api/v1/groups', raw, write: true })),
  );

  it(`answers ${RUNS} malformed requests with 4xx error bodies and changes nothing`, async () => {
    const before = stateEvents();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const management = req.path.startsWith('MGMT');
        const url = management ? `${server.url}${req.path.slice(4)}` : `${scim.base}${req.path}`;
        const token = req.token ?? (management ? ADMIN_TOKEN : scim.token);
        const r = await server.http(req.method, url, {
          token,
          ...(req.body !== undefined ? { body: req.body } : {}),
          ...(req.raw !== undefined ? { raw: req.raw } : {}),
          headers: { ...(management ? { 'content-type': 'application/json' } : {}), ...(req.headers ?? {}) },
        });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 500) throw new Error(`${req.method} ${req.path} → ${r.status}: ${r.text.slice(0, 200)}`);
        if (req.write && (r.status < 400 || r.status >= 500)) throw new Error(`${req.method} ${req.path} was accepted: ${r.status} ${r.text.slice(0, 200)}`);
        if (r.status >= 400 && r.status !== 404 && typeof r.body !== 'object') throw new Error(`no error body for ${r.status}`);
        if (r.text.includes('    at ')) throw new Error('a stack trace reached the client');
      }),
      { numRuns: RUNS, seed: 20261125 },
    );
    expect(stateEvents()).toBe(before);
    // The server still works.
    expect((await scim.request('GET', `/Users/${userId}`)).status).toBe(200);
    expect([...statuses.keys()].every((s) => s >= 200 && s < 500)).toBe(true);
  }, 300_000);
});
