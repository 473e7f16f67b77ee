// npm run bench [-- --quick] [--users N] [--duration S] [--only ours,peer,ceiling]
// Starts ours, the peer and the ceiling on loopback with fresh stores, preloads users,
// drives each phase with autocannon (concurrency 16), prints a table of req/s, p50, p99 and
// non-2xx with the ratios ours/peer and ours/ceiling, and writes bench/results/latest.json.
// Only ratios from one run are comparable: the load generator shares the machine.
import autocannon from 'autocannon';
import { fork, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const QUICK = flag('quick');
const USERS = Number(option('users', QUICK ? 2000 : 10000));
const DURATION = Number(option('duration', QUICK ? 3 : 10));
const BIG_GROUP = QUICK ? 5000 : 50000;
const ONLY = new Set(option('only', 'ours,peer,ceiling').split(','));
const AUDIT_EVENTS = Number(option('audit-events', QUICK ? 100000 : 1000000));
const CONNECTIONS = 16;
const children = [];
const log = (m) => process.stderr.write(`${m}\n`);

process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url, headers = {}) {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(url, { headers });
      if (r.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready: ${url}`);
}

async function startOurs(seed) {
  const port = await freePort();
  const admin = randomBytes(24).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ours-'));
  const seeded = seed ? await seed(dataDir) : undefined;
  const main = join(here, '..', 'dist', 'apps', 'scim-server', 'src', 'main.js');
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN: admin, RATE_LIMIT_PER_MINUTE: '1000000000', LOG_LEVEL: 'warn', MAX_PAYLOAD_BYTES: String(32 * 1024 * 1024), SCIM_MAX_RESULTS: '1000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health/ready`);
  const r = await fetch(`${url}/api/v1/scim/tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{"scope":"application"}' });
  const { scim_api_url, scim_token } = await r.json();
  return { name: 'ours', base: scim_api_url, token: scim_token, pid: child.pid, url, admin, seeded, child, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

async function startScript(name, script, env = {}) {
  const port = await freePort();
  const child = fork(join(here, script), { env: { ...process.env, PORT: String(port), ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
  return { port, pid: child.pid };
}

async function startPeer() {
  const token = randomUUID();
  const { port, pid } = await startScript('peer', 'peer-server.mjs', { PEER_TOKEN: token });
  return { name: 'peer', base: `http://127.0.0.1:${port}/scim`, token, pid };
}

async function startCeiling() {
  const { port, pid } = await startScript('ceiling', 'ceiling-server.mjs');
  return { name: 'ceiling', base: `http://127.0.0.1:${port}/scim`, token: 'none', pid };
}

const userBody = (i, prefix = 'bench') => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: `${prefix}.user.${String(i).padStart(7, '0')}@example.com`,
  externalId: `${prefix}-ext-${i}`,
  name: { givenName: 'Bench', familyName: `User ${i}` },
  emails: [{ value: `${prefix}.user.${String(i).padStart(7, '0')}@example.com`, type: 'work', primary: true }],
  active: true,
});

async function call(server, method, path, body) {
  const r = await fetch(`${server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/scim+json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

async function preload(server, count, prefix = 'bench') {
  const ids = new Array(count);
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++;
        const r = await call(server, 'POST', '/Users', userBody(i, prefix));
        if (r.status !== 201) throw new Error(`${server.name}: preload ${i} → ${r.status} ${JSON.stringify(r.body)}`);
        ids[i] = r.body.id;
        if (i % 5000 === 0 && i > 0) log(`  ${server.name}: preloaded ${i}/${count}`);
      }
    }),
  );
  log(`  ${server.name}: preloaded ${count} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ids;
}

function cannon(server, opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.base,
        connections: CONNECTIONS,
        ...(opts.amount ? { amount: opts.amount } : { duration: DURATION }),
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/scim+json' },
        requests: [{ method: opts.method, setupRequest: opts.setup }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

const summary = (r) => ({ rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors });
const rand = (n) => Math.floor(Math.random() * n);

const PHASES = [
  {
    name: 'post-users',
    run: (s) => {
      let n = 0;
      const tag = randomBytes(3).toString('hex');
      return cannon(s, { method: 'POST', setup: (req) => ({ ...req, path: `${new URL(s.base).pathname}/Users`, body: JSON.stringify(userBody(n++, `post${tag}`)) }) });
    },
  },
  {
    name: 'filter-username',
    check: async (s) => {
      if (s.name === 'ceiling') return;
      const r = await call(s, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userBody(7).userName}"`)}`);
      if (r.body.totalResults !== 1) throw new Error(`${s.name}: filter returned ${r.body.totalResults}`);
    },
    run: (s) => cannon(s, { method: 'GET', setup: (req) => ({ ...req, path: `${new URL(s.base).pathname}/Users?filter=${encodeURIComponent(`userName eq "${userBody(rand(USERS)).userName}"`)}` }) }),
  },
  {
    name: 'get-by-id',
    run: (s) => cannon(s, { method: 'GET', setup: (req) => ({ ...req, path: `${new URL(s.base).pathname}/Users/${s.ids ? s.ids[rand(s.ids.length)] : 'x'}` }) }),
  },
  {
    name: 'patch-deactivate',
    run: (s) =>
      cannon(s, {
        method: 'PATCH',
        setup: (req) => ({
          ...req,
          path: `${new URL(s.base).pathname}/Users/${s.ids ? s.ids[rand(s.ids.length)] : 'x'}`,
          body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }),
        }),
      }),
  },
  {
    name: 'put-replace',
    run: (s) =>
      cannon(s, {
        method: 'PUT',
        setup: (req) => {
          const i = rand(USERS);
          const id = s.ids ? s.ids[i] : 'x';
          return { ...req, path: `${new URL(s.base).pathname}/Users/${id}`, body: JSON.stringify({ ...userBody(i), id, name: { givenName: 'Put', familyName: `User ${i} ${rand(1000)}` }, active: true }) };
        },
      }),
  },
  {
    name: 'list-100',
    check: async (s) => {
      if (s.name === 'ceiling') return;
      const r = await call(s, 'GET', '/Users?startIndex=101&count=100');
      if (r.body.Resources.length !== 100 || r.body.startIndex !== 101) throw new Error(`${s.name}: list returned ${r.body.Resources.length}`);
    },
    run: (s) => cannon(s, { method: 'GET', setup: (req) => ({ ...req, path: `${new URL(s.base).pathname}/Users?startIndex=${1 + rand(Math.max(USERS - 100, 1))}&count=100` }) }),
  },
];

async function groupPhase(ours, size, poolSize) {
  const members = await preload(ours, size, `g${size}`);
  const pool = await preload(ours, poolSize, `pool${size}`);
  const created = await call(ours, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `bench-${size}-${randomUUID()}` });
  for (let i = 0; i < members.length; i += 1000) {
    const r = await call(ours, 'PATCH', `/Groups/${created.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: members.slice(i, i + 1000).map((value) => ({ value })) }] });
    if (r.status !== 204) throw new Error(`group fill → ${r.status}`);
  }
  let n = 0;
  const result = await cannon(ours, {
    method: 'PATCH',
    amount: pool.length,
    setup: (req) => ({
      ...req,
      path: `${new URL(ours.base).pathname}/Groups/${created.body.id}`,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: pool[n++ % pool.length] }] }] }),
    }),
  });
  return summary(result);
}

function peakRssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return undefined;
  }
}

async function main() {
  log(`benchmark: ${USERS} users, ${DURATION} s per phase, ${CONNECTIONS} connections${QUICK ? ' (quick)' : ''}`);
  const servers = [];
  if (ONLY.has('ours')) servers.push(await startOurs());
  if (ONLY.has('peer')) servers.push(await startPeer());
  if (ONLY.has('ceiling')) servers.push(await startCeiling());
  for (const s of servers) if (s.name !== 'ceiling') s.ids = await preload(s, USERS);

  const phases = [];
  for (const phase of PHASES) {
    const row = { name: phase.name };
    for (const s of servers) {
      await phase.check?.(s);
      log(`phase ${phase.name}: ${s.name} …`);
      row[s.name] = summary(await phase.run(s));
      log(`phase ${phase.name}: ${s.name} ${row[s.name].rps} req/s, p50 ${row[s.name].p50} ms, p99 ${row[s.name].p99} ms, non-2xx ${row[s.name].non2xx}`);
    }
    if (row.ours && row.peer) row.ratioPeer = +(row.ours.rps / Math.max(row.peer.rps, 1)).toFixed(2);
    if (row.ours && row.ceiling) row.ratioCeiling = +(row.ours.rps / Math.max(row.ceiling.rps, 1)).toFixed(2);
    phases.push(row);
  }

  const ours = servers.find((s) => s.name === 'ours');
  if (ours) {
    log('phase group-add-10 / group-add-50k: ours …');
    const small = await groupPhase(ours, 10, QUICK ? 500 : 2000);
    phases.push({ name: 'group-add-10', ours: small });
    const big = await groupPhase(ours, BIG_GROUP, QUICK ? 500 : 2000);
    phases.push({ name: 'group-add-50k', ours: { ...big, groupSize: BIG_GROUP, latencyRatio: +(big.p50 / Math.max(small.p50, 0.001)).toFixed(2) } });
    log(`group add p50: 10 members ${small.p50} ms, ${BIG_GROUP} members ${big.p50} ms`);

    log('phase rebuild: ours …');
    const rebuild = await fetch(`${ours.url}/api/v1/projections/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${ours.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ projection: 'scim-users' }) });
    if (rebuild.status === 200) {
      const [r] = await rebuild.json();
      phases.push({ name: 'rebuild', ours: { eventsPerSecond: r.eventsPerSecond, events: r.events } });
      log(`rebuild: ${r.events} events at ${r.eventsPerSecond} events/s`);
    } else phases.push({ name: 'rebuild', ours: { skipped: `endpoint answered ${rebuild.status}` } });

    phases.push({ name: 'peak-rss', ours: { rssMb: peakRssMb(ours.pid), users: USERS + 2 * (QUICK ? 500 : 2000) + BIG_GROUP + 10 } });
    ours.child.kill('SIGTERM');

    // A second server of ours on a log of AUDIT_EVENTS events, written straight into its store.
    log(`phase audit-query: seeding ${AUDIT_EVENTS} events …`);
    const { seedAuditLog } = await import('./audit-seed.mjs');
    const started = Date.now();
    const auditServer = await startOurs((dir) => seedAuditLog(join(here, '..', 'dist'), dir, AUDIT_EVENTS, log));
    const buildSeconds = (Date.now() - started) / 1000;
    const targets = auditServer.seeded;
    let i = 0;
    const result = await new Promise((resolve, reject) => {
      const instance = autocannon(
        {
          url: auditServer.url,
          connections: CONNECTIONS,
          duration: DURATION,
          headers: { authorization: `Bearer ${auditServer.admin}` },
          requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/api/v1/audit/events?limit=100&until=2999-01-01T00:00:00Z&filter=${encodeURIComponent(`target.id eq "${targets[i++ % targets.length]}"`)}` }) }],
        },
        (err, r) => (err ? reject(err) : resolve(r)),
      );
      autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
    });
    const s = summary(result);
    phases.push({ name: "audit-query", ours: { ...s, p97_5: result.latency.p97_5, events: AUDIT_EVENTS, startupSeconds: +buildSeconds.toFixed(1) } });
    log(`audit query by target over ${AUDIT_EVENTS} events: ${s.rps} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms`);
    auditServer.cleanup();
  }

  const machine = { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const report = { machine, date: new Date().toISOString(), users: USERS, quick: QUICK, durationSeconds: DURATION, connections: CONNECTIONS, phases };
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);

  const rows = [['phase', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'ours/peer', 'ours/ceiling']];
  for (const p of phases) {
    for (const name of ['ours', 'peer', 'ceiling']) {
      const r = p[name];
      if (!r) continue;
      if (r.rps === undefined) {
        rows.push([p.name, name, JSON.stringify(r), '', '', '', '', '']);
        continue;
      }
      rows.push([p.name, name, String(r.rps), String(r.p50), String(r.p99), String(r.non2xx), name === 'ours' && p.ratioPeer !== undefined ? String(p.ratioPeer) : '', name === 'ours' && p.ratioCeiling !== undefined ? String(p.ratioCeiling) : '']);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(`\nwritten: bench/results/latest.json (${machine.cpus} cpus, ${machine.model}, node ${machine.node})`);
  ours?.cleanup();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
