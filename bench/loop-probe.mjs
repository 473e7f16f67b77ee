// node bench/loop-probe.mjs [users] [deepHistory]     (after npm run build)
// PROBE_ONLY=<regex> runs only the matching cases; PROBE_PROFILE=<dir> writes a CPU profile of each.
//
// Finds requests that hold the event loop: starts the built server in this process on a fresh
// store, seeds a tenant with `users` users (default 50,000) in one big SCIM group linked to a
// management group, one user with `deepHistory` PATCHes (default 5,000), then sends each
// expensive request the API accepts and prints the longest event-loop delay seen while it ran
// (node:perf_hooks monitorEventLoopDelay). The client shares the loop, so it never parses the
// big bodies it gets back. Anything above 50 ms is a request that stalls every other tenant.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..');
const { loadConfig } = require(join(root, 'dist/libs/config/src/index.js'));
const { startServer } = require(join(root, 'dist/apps/scim-server/src/bootstrap.js'));

const USERS = Number(process.argv[2] ?? 50_000);
const DEEP = Number(process.argv[3] ?? 5_000);
const ADMIN = randomBytes(24).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'loop-probe-'));
const config = loadConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'error', RATE_LIMIT_PER_MINUTE: '100000000' });
const { app, url } = await startServer(config);
const log = (m) => process.stderr.write(`${m}\n`);

async function http(method, path, token, body, { parse = true } = {}) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const buf = await r.arrayBuffer();
  return { status: r.status, bytes: buf.byteLength, body: parse ? JSON.parse(Buffer.from(buf).toString() || 'null') : undefined };
}

const must = (r, what) => {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
};
const U = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

must(await http('POST', '/api/v1/groups', ADMIN, { path: 'acme', name: 'Acme' }), 'group');
must(await http('POST', '/api/v1/groups', ADMIN, { path: 'eng', name: 'Eng', parentPath: 'acme' }), 'subgroup');
must(await http('POST', '/api/v1/saml-group-links', ADMIN, { samlGroupName: 'everyone', groupPath: 'acme/eng', accessLevel: 'developer' }), 'link');
const scim = must(await http('POST', '/api/v1/scim/tokens', ADMIN, { scope: 'group', groupPath: 'acme' }), 'token').scim_token;
const base = '/api/scim/v2/groups/acme';
const started = Date.now();
const ids = [];
for (let i = 0; i < USERS; i += 1000) {
  const ops = Array.from({ length: Math.min(1000, USERS - i) }, (_, k) => ({
    method: 'POST', path: '/Users', bulkId: `u${i + k}`,
    data: { schemas: [U], userName: `user${i + k}@acme.example`, externalId: `ext-${i + k}`, emails: [{ value: `user${i + k}@acme.example`, type: 'work' }], name: { givenName: 'Probe', familyName: `User ${i + k}` } },
  }));
  const r = must(await http('POST', `${base}/Bulk`, scim, { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops }), 'bulk');
  for (const o of r.Operations) ids.push(o.location.split('/').pop());
  if (i % 10000 === 0) log(`  seeded ${ids.length} users (${Math.round((Date.now() - started) / 1000)} s)`);
}
const group = must(await http('POST', `${base}/Groups`, scim, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'everyone' }), 'scim group').id;
for (let i = 0; i < ids.length; i += 1000) {
  must(await http('PATCH', `${base}/Groups/${group}`, scim, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: ids.slice(i, i + 1000).map((value) => ({ value })) }] }), 'members');
}
log(`  group of ${ids.length} members (${Math.round((Date.now() - started) / 1000)} s)`);
const deep = ids[0];
for (let i = 0; i < DEEP; i += 1000) {
  const ops = Array.from({ length: Math.min(1000, DEEP - i) }, (_, k) => ({
    method: 'PATCH', path: `/Users/${deep}`, data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `t${i + k}` }] },
  }));
  must(await http('POST', `${base}/Bulk`, scim, { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops }), 'deep');
}
const account = must(await http('GET', `/api/v1/identities/${deep}`, ADMIN), 'identity').account.id;
const head = must(await http('GET', '/health/ready', ADMIN), 'ready').details.store.head;
log(`seeded: ${head} events in ${Math.round((Date.now() - started) / 1000)} s; probing`);

const cases = [
  ['GET /Users count=1000', 'GET', `${base}/Users?count=1000`, scim],
  ['GET /Users deep page', 'GET', `${base}/Users?count=1000&startIndex=${Math.max(1, USERS - 1000)}`, scim],
  ['GET /Users sortBy=name.familyName', 'GET', `${base}/Users?count=1000&sortBy=name.familyName&sortOrder=descending`, scim],
  ['GET /Users filter co', 'GET', `${base}/Users?count=1000&filter=${encodeURIComponent('emails co "9" or name.familyName co "7"')}`, scim],
  ['GET /Users filter displayName pr', 'GET', `${base}/Users?count=1000&filter=${encodeURIComponent('title pr')}`, scim],
  ['GET /Groups (members)', 'GET', `${base}/Groups`, scim],
  ['GET /Groups/{big}', 'GET', `${base}/Groups/${group}`, scim],
  ['GET /Groups filter members.value', 'GET', `${base}/Groups?filter=${encodeURIComponent(`members.value eq "${ids[ids.length - 1]}"`)}`, scim],
  ['POST /.search count=1000', 'POST', `${base}/Users/.search`, scim, { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1000 }],
  ['GET members (mgmt)', 'GET', '/api/v1/groups/acme%2Feng/members', ADMIN],
  ['GET members (mgmt, top)', 'GET', '/api/v1/groups/acme/members', ADMIN],
  ['GET account memberships', 'GET', `/api/v1/accounts/${account}/memberships`, ADMIN],
  ['GET audit events limit=1000', 'GET', '/api/v1/audit/events?limit=1000&until=2999-01-01T00:00:00Z', ADMIN],
  ['GET audit events q= scan', 'GET', `/api/v1/audit/events?limit=1000&q=nothing-matches&until=2999-01-01T00:00:00Z`, ADMIN],
  ['GET audit events desc filter', 'GET', `/api/v1/audit/events?limit=1000&sortOrder=descending&filter=${encodeURIComponent('type eq "UserProfileUpdated"')}&until=2999-01-01T00:00:00Z`, ADMIN],
  ['GET support timeline (deep)', 'GET', `/api/v1/support/accounts/${account}/timeline`, ADMIN],
  ['GET support state (deep)', 'GET', `/api/v1/support/accounts/${account}/state`, ADMIN],
  ['GET support diff (deep)', 'GET', `/api/v1/support/accounts/${account}/diff?fromRevision=0`, ADMIN],
  ['GET support search', 'GET', `/api/v1/support/search?q=${encodeURIComponent('user1@acme.example')}`, ADMIN],
  ['GET support search (common)', 'GET', `/api/v1/support/search?q=${encodeURIComponent('acme.example')}`, ADMIN],
  ['GET nameid diagnosis', 'GET', `/api/v1/support/nameid-diagnosis?nameId=ext-1`, ADMIN],
  ['GET projections', 'GET', '/api/v1/projections', ADMIN],
  ['GET audit verification', 'GET', '/api/v1/audit/verification', ADMIN],
  ['GET audit export ndjson', 'GET', '/api/v1/audit/export?format=ndjson', ADMIN],
  ['GET audit chain heads', 'GET', '/api/v1/audit/heads', ADMIN],
  ['POST audit checkpoints', 'POST', '/api/v1/audit/checkpoints', ADMIN, {}],
  ['PATCH /Groups 1000 members', 'PATCH', `${base}/Groups/${group}`, scim, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members', value: ids.slice(1, 1001).map((value) => ({ value })) }] }],
  ['PUT /Groups/{big} (all members)', 'PUT', `${base}/Groups/${group}`, scim, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'everyone', members: ids.slice(0, 1000).map((value) => ({ value })) }],
  ['DELETE /Groups/{big}', 'DELETE', `${base}/Groups/${group}`, scim],
  ['POST rebuild all', 'POST', '/api/v1/projections/rebuild', ADMIN, {}],
];
const only = process.env.PROBE_ONLY ? new RegExp(process.env.PROBE_ONLY, 'i') : undefined;
// Once to warm the JIT (quietly, without the destructive cases), then measured.
for (const [name, method, path, token, body] of cases) {
  if ((only && !only.test(name)) || method !== 'GET') continue;
  await http(method, path, token, body, { parse: false });
}
for (const [name, method, path, token, body] of cases) {
  if (only && !only.test(name)) continue;
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  // And the plain way: the longest gap between two ticks of a 2 ms interval.
  let last = performance.now();
  let gap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last - 2);
    last = now;
  }, 2);
  // PROBE_PROFILE=<dir>: a CPU profile of each case (open in Chrome DevTools or speedscope) to
  // see what the stall is made of; the inspector shares this process, so it sees the server.
  const profiler = process.env.PROBE_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    // Starting the profiler holds the loop for up to a second: not the request's doing.
    h.reset();
    gap = 0;
    last = performance.now();
  }
  const t0 = performance.now();
  const r = await http(method, path, token, body, { parse: false });
  const ms = performance.now() - t0;
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(process.env.PROBE_PROFILE, `${name.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`), JSON.stringify(profile));
    profiler.disconnect();
  }
  // The histogram records a delay when its timer finally fires: give it the chance.
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  clearInterval(tick);
  const max = Math.max(h.max / 1e6, gap);
  console.log(`${max > 50 ? 'BLOCKS' : 'ok    '} ${name.padEnd(36)} ${String(r.status).padEnd(4)} ${String(r.bytes).padStart(10)} B  ${ms.toFixed(0).padStart(6)} ms wall  max loop delay ${max.toFixed(0)} ms`);
}
await app.close();
rmSync(dir, { recursive: true, force: true });
