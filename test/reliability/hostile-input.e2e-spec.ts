import Database from 'better-sqlite3';
import fc from 'fast-check';
import { join } from 'node:path';
import { ADMIN_TOKEN, type HttpResult, type ScimClient, TestServer, userBody } from '../support/test-server';
import { MAX_JSON_DEPTH } from '../../apps/scim-server/src/infrastructure/json-depth';
import { AUDIT_ATTRIBUTES, budgetFilters, filterOf, patchPathOf, schemaAttributes } from '../support/scim-grammar';

const RUNS = 250;

/**
 * A generated corpus of malformed requests over the SCIM and management routes: broken
 * JSON, wrong types, huge and deeply nested bodies, bad filters and PATCH paths, odd
 * Unicode, hostile ids and prototype-poisoning keys; filters and PATCH paths generated from
 * their grammars (every attribute × operator, empty operands, far dates, nesting at and past
 * each limit, huge value paths); and every route the server registered (read from its route
 * table at run time) with repeated and array-valued query parameters and over-deep bodies.
 * Nothing is ever a 5xx, every 4xx has a well-formed SCIM or management error body, and a
 * rejected request adds no event but the rejection record.
 */
describe('hostile input', () => {
  let server: TestServer;
  let scim: ScimClient;
  let userId: string;
  let groupId: string;
  let db: Database.Database;
  const stateEvents = () => (db.prepare("SELECT COUNT(*) AS n FROM events WHERE type != 'ProvisioningRejected'").get() as { n: number }).n;

  beforeAll(async () => {
    server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '100000000', MAX_PAYLOAD_BYTES: '1048576' });
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

  /** No 5xx, no stack trace, a well-formed error body for every 4xx, no state change when refused. */
  const check = (what: string, r: HttpResult, eventsBefore: number) => {
    const where = `${what} → ${r.status} ${r.text.slice(0, 200)}`;
    // /Me is 501 Not Implemented by design (RFC 7644 §3.11), with a SCIM error body.
    if (r.status >= 500 && !(r.status === 501 && /\/Me(\?|$| )/.test(what))) throw new Error(where);
    if (r.text.includes('    at ')) throw new Error(`a stack trace reached the client: ${where}`);
    if (r.status >= 400) {
      const scimPath = what.includes('/api/scim/');
      const b = r.body as Record<string, unknown> | undefined;
      const wellFormed = scimPath
        ? Array.isArray(b?.schemas) && (b.schemas as string[]).includes('urn:ietf:params:scim:api:messages:2.0:Error') && b?.status === String(r.status) && typeof b?.detail === 'string'
        : !what.includes('/api/') || (b?.status === r.status && typeof b?.error === 'string' && typeof b?.detail === 'string');
      if (!wellFormed) throw new Error(`malformed error body: ${where}`);
      if (stateEvents() !== eventsBefore) throw new Error(`a refused request changed the store: ${where}`);
    }
  };

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
    fc.constant({ method: 'POST', path: '/Users', raw: JSON.stringify({ userName: 'big', pad: 'x'.repeat(1_100_000) }), write: true }),
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

  describe('filters and PATCH paths generated from their grammars', () => {
    const users = schemaAttributes('User');
    const groups = schemaAttributes('Group');
    const get = (url: string, token: string) => server.http('GET', url, { token });

    it('answers every generated filter on Users, Groups, .search and the audit log with 200 or a 400 error body', async () => {
      // A filter too long for a URL (the HTTP server refuses request lines over 16 KiB itself)
      // goes in a .search body instead.
      const search = (resource: string) => (f: string) => {
        const url = `${scim.base}/${resource}?filter=${encodeURIComponent(f)}`;
        return url.length < 8000 ? { url, token: scim.token } : { url: `${scim.base}/${resource}/.search`, token: scim.token, body: { filter: f } };
      };
      const target = fc.oneof(
        fc.oneof(filterOf(users), budgetFilters('userName', 'emails')).map(search('Users')),
        fc.oneof(filterOf(groups), budgetFilters('displayName', 'members')).map(search('Groups')),
        filterOf(users).map((f) => ({ url: `${scim.base}/.search`, token: scim.token, body: { filter: f } })),
        fc
          .oneof(filterOf(AUDIT_ATTRIBUTES), budgetFilters('type', 'actor'))
          .map((f) => ({ url: `${server.url}/api/v1/audit/events?limit=1&filter=${encodeURIComponent(f)}`, token: ADMIN_TOKEN }))
          .filter((t) => t.url.length < 8000),
      );
      await fc.assert(
        fc.asyncProperty(target, async (t: { url: string; token: string; body?: unknown }) => {
          const before = stateEvents();
          const r = t.body ? await server.http('POST', t.url, { token: t.token, body: t.body }) : await get(t.url, t.token);
          check(`${t.body ? 'POST' : 'GET'} ${t.url.slice(0, 300)}`, r, before);
          if (r.status !== 200 && r.status !== 400) throw new Error(`${t.url.slice(0, 200)} → ${r.status}`);
        }),
        { numRuns: 150, seed: 20261201 },
      );
    }, 120_000);

    it('refuses the filters that used to be 500s, and far dates, with 400 and a SCIM or management error', async () => {
      const scimFilters = [
        ['Users', 'userName ew ""'],
        ['Users', 'emails co ""'],
        ['Users', 'emails[type sw ""]'],
        ['Groups', 'displayName ew ""'],
        ['Users', 'name[givenName eq "Test"]'],
        ['Users', 'name[givenName eq "Test"] or userName eq "x"'],
        ['Users', 'not (name[givenName eq "Test"])'],
        ['Users', 'meta.created gt "+010000-01-01T00:00:00Z"'],
        ['Users', 'meta.created lt "-000001-01-01T00:00:00Z"'],
        ['Groups', 'meta.lastModified ge "+275760-09-13T00:00:00Z"'],
      ];
      for (const [resource, f] of scimFilters) {
        const before = stateEvents();
        const r = await scim.request('GET', `/${resource}?filter=${encodeURIComponent(f)}`);
        check(`GET /api/scim/v2/${resource}?filter=${f}`, r, before);
        expect([f, r.status, r.body.scimType]).toEqual([f, 400, 'invalidFilter']);
      }
      for (const f of ['type ew ""', 'scope co ""', 'actor[kind eq "admin"]']) {
        const before = stateEvents();
        const r = await server.admin('GET', `/api/v1/audit/events?filter=${encodeURIComponent(f)}`);
        check(`GET /api/v1/audit/events?filter=${f}`, r, before);
        expect([f, r.status]).toEqual([f, 400]);
      }
    });

    it('answers every generated PATCH path with 200 or a 400 error body, changing nothing when refused', async () => {
      const op = fc.record({
        op: fc.constantFrom('add', 'replace', 'remove'),
        path: patchPathOf(users, 'emails'),
        value: fc.oneof(fc.constant('v@example.com'), fc.constant(null), fc.constant({ value: 'v@example.com' }), fc.boolean()),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 2 }), fc.boolean(), async (ops, toGroup) => {
          const before = stateEvents();
          const path = toGroup ? `/Groups/${groupId}` : `/Users/${userId}`;
          const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: toGroup ? ops.map((o) => ({ ...o, path: o.path.replace(/^emails/, 'members') })) : ops };
          const r = await scim.request('PATCH', path, body);
          check(`PATCH /api/scim/v2${path} ${JSON.stringify(ops).slice(0, 200)}`, r, before);
        }),
        { numRuns: 80, seed: 20261201 },
      );
    }, 120_000);
  });

  describe('every registered route', () => {
    interface Route {
      readonly method: string;
      readonly path: string;
    }

    /** The route table Fastify printed, flattened: `printRoutes` nests each path under its prefix. */
    const routeTable = (): Route[] => {
      const text = server.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
      const stack: string[] = [];
      const routes: Route[] = [];
      for (const line of text.split('\n')) {
        const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line.replace(/\u00a0/g, ' '));
        if (!m) continue;
        const level = m[1].length / 4;
        stack.length = level;
        stack.push(m[2]);
        const path = stack.join('');
        // HEAD mirrors GET; TRACE and CONNECT (registered by catch-all routes such as /Me) are
        // methods fetch refuses to send, so no client of ours can reach them either.
        for (const method of m[3].split(', ')) if (!['HEAD', 'TRACE', 'CONNECT'].includes(method)) routes.push({ method, path });
      }
      return routes;
    };

    const REPEATED = ['filter', 'sortBy', 'sortOrder', 'startIndex', 'count', 'attributes', 'excludedAttributes', 'q', 'format', 'nameId', 'samlResponse', 'at', 'revision', 'since', 'until', 'limit', 'after', 'type', 'scope', 'fromPosition', 'toPosition', 'fromAt', 'toAt'];
    const repeatedQuery = REPEATED.map((p) => `${p}=1&${p}=2`).join('&');
    const caseTwinQuery = 'filter=userName%20eq%20%22a%22&FILTER=userName%20eq%20%22b%22';
    const arrayQuery = 'filter[]=x&count[0]=1&q[a]=b';
    /** A JSON object whose nesting is `n + 1` levels deep. */
    const deep = (n: number) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`;

    it('reads the route table', () => {
      const routes = routeTable();
      // Both SCIM bases, the management API, health and metrics: if parsing breaks, this fails.
      expect(routes.length).toBeGreaterThan(60);
      expect(routes).toEqual(expect.arrayContaining([{ method: 'PATCH', path: '/api/scim/v2/groups/:groupPath/Users/:id' }, { method: 'GET', path: '/api/v1/audit/events' }]));
    });

    it('answers repeated and array-valued query parameters and over-deep bodies on every route without a 5xx', async () => {
      const groupScim = await server.scim('fuzz');
      const groupUser = (await groupScim.request('POST', '/Users', userBody('route@example.com'))).body.id as string;
      const seen = new Map<string, number>();
      // Rebuilding projections is long work another test covers; everything else is sent.
      const routes = routeTable().filter((r) => !r.path.endsWith('/rebuild'));
      for (const route of routes) {
        const groupBase = route.path.includes(':groupPath');
        const path = route.path
          .replace(':groupPath', 'fuzz')
          .replace(':id', groupBase ? groupUser : route.path.includes('/Groups/') ? groupId : userId)
          .replace(/:(fullPath)/, 'fuzz')
          .replace(/:(accountId|scimId)/, '00000000-0000-4000-8000-000000000000')
          .replace('*', 'x');
        const token = path.startsWith('/api/scim/') ? (groupBase ? groupScim.token : scim.token) : ADMIN_TOKEN;
        const variants: { query: string; raw?: string }[] = [{ query: repeatedQuery }, { query: `${caseTwinQuery}&${arrayQuery}` }];
        if (route.method !== 'GET' && route.method !== 'DELETE') variants.push({ query: '', raw: deep(MAX_JSON_DEPTH) }, { query: '', raw: deep(5000) });
        for (const v of variants) {
          const before = stateEvents();
          const r = await server.http(route.method, `${path}${v.query ? `?${v.query}` : ''}`, {
            token,
            ...(v.raw !== undefined ? { raw: v.raw, headers: { 'content-type': 'application/json' } } : {}),
          });
          seen.set(`${r.status}`, (seen.get(`${r.status}`) ?? 0) + 1);
          check(`${route.method} ${path}?${v.query.slice(0, 40)} ${v.raw ? `(${v.raw.length}-byte body)` : ''}`, r, before);
          // A route that reads its query refuses the repeated parameters outright.
          if (v.query === repeatedQuery && /\/(Users|Groups|audit\/events|audit\/export|support\/search|nameid-diagnosis)$/.test(path) && route.method === 'GET') {
            expect(r.status).toBe(400);
          }
          if (v.raw && v.raw.length > 1000) expect(r.status).toBe(400);
        }
      }
      expect(seen.size).toBeGreaterThan(1);
    }, 120_000);
  });
});
