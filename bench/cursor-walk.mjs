// node bench/cursor-walk.mjs [users]      (after npm run build)
//
// The cursor-paging promise at scale (RFC 9865, issue 15): seeds `users` users (default 100,000)
// into one scope, then walks /Users by cursor (count=100) while another client keeps creating
// and deleting users in the same scope, and checks that every user that existed throughout the
// walk was seen exactly once. Prints the page cost at the start and at the end of the walk.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..');
const { loadConfig } = require(join(root, 'dist/libs/config/src/index.js'));
const { startServer } = require(join(root, 'dist/apps/scim-server/src/bootstrap.js'));

const USERS = Number(process.argv[2] ?? 100_000);
const ADMIN = randomBytes(24).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'cursor-walk-'));
const config = loadConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'error', RATE_LIMIT_PER_MINUTE: '100000000' });
const { app, url } = await startServer(config);
const log = (m) => process.stderr.write(`${m}\n`);
const U = 'urn:ietf:params:scim:schemas:core:2.0:User';

async function http(method, path, token, body) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
const must = (r, what) => {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
};

const issued = must(await http('POST', '/api/v1/scim/tokens', ADMIN, { scope: 'application' }), 'token');
const token = issued.scim_token;
const base = new URL(issued.scim_api_url).pathname;
const started = Date.now();
const seeded = new Set();
for (let i = 0; i < USERS; i += 1000) {
  const ops = Array.from({ length: Math.min(1000, USERS - i) }, (_, k) => ({
    method: 'POST', path: '/Users', bulkId: `u${i + k}`, data: { schemas: [U], userName: `walk${i + k}@acme.example` },
  }));
  const r = must(await http('POST', `${base}/Bulk`, token, { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops }), 'bulk');
  for (const o of r.Operations) seeded.add(o.location.split('/').pop());
  if (i % 20000 === 0) log(`  seeded ${seeded.size} users (${Math.round((Date.now() - started) / 1000)} s)`);
}
log(`seeded ${seeded.size} users in ${Math.round((Date.now() - started) / 1000)} s; walking while another client creates and deletes`);

// The churn: creates users and deletes some of them (never a seeded one), as long as the walk runs.
let walking = true;
let churned = 0;
const churn = (async () => {
  const mine = [];
  for (let n = 0; walking; n++) {
    const created = await http('POST', `${base}/Users`, token, { schemas: [U], userName: `churn${n}@acme.example` });
    if (created.status === 201) mine.push(created.body.id);
    if (n % 2 === 1 && mine.length > 0) await http('DELETE', `${base}/Users/${mine.shift()}`, token);
    churned++;
  }
})();

const seen = new Map();
const costs = [];
let cursor = '';
let pages = 0;
for (;;) {
  const t0 = performance.now();
  const page = must(await http('GET', `${base}/Users?count=100&cursor=${encodeURIComponent(cursor)}&attributes=id`, token), 'page');
  costs.push(performance.now() - t0);
  pages++;
  for (const r of page.Resources) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  if (!page.nextCursor) break;
  cursor = page.nextCursor;
}
walking = false;
await churn;
const missing = [...seeded].filter((id) => !seen.has(id));
const repeated = [...seen].filter(([, n]) => n > 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const first = costs.slice(0, 50);
const last = costs.slice(-50);
console.log(`${pages} pages, ${seen.size} distinct users seen, ${churned} churn writes during the walk`);
console.log(`seeded users missing: ${missing.length}; users seen more than once: ${repeated.length}`);
console.log(`median page: first 50 pages ${median(first).toFixed(1)} ms, last 50 pages ${median(last).toFixed(1)} ms`);
await app.close();
rmSync(dir, { recursive: true, force: true });
process.exit(missing.length === 0 && repeated.length === 0 ? 0 : 1);
