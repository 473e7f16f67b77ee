// npm run bench [-- --quick] [--users N] [--duration S] [--only ours,peer,ceiling] [--store sqlite|postgres]
//   [--instances N] [--phases LIST] [--help]
//
// Starts, in one run, three servers on loopback, each with a fresh store: ours
// (dist/apps/scim-server), the peer (bench/peer-server.mjs: scimmy + scimmy-routers + express,
// in memory, indexed) and the ceiling (bench/ceiling-server.mjs: bare node:http, fixed body).
// Preloads N users into ours and the peer, then for each phase checks that every server
// answers correctly and drives it with autocannon (16 connections, fixed duration). Ours
// alone then runs the group, rebuild, peak-RSS and audit-query phases. Prints a progress line
// per phase (stderr), a table (stdout) and writes bench/results/latest.json. Only ratios from
// one run compare: the load generator shares the machine with the servers.
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedAuditLog } from './lib/audit-seed.mjs';
import { parseArgs } from './lib/cli.mjs';
import { drive, summarise } from './lib/load.mjs';
import { createBenchDatabase } from './lib/postgres.mjs';
import { driveAny } from './lib/spread.mjs';
import { CheckFailed, fairnessPhase, PHASES } from './lib/phases.mjs';
import {
  cpuSnapshot,
  foreignShare,
  installCleanup,
  keepPath,
  log,
  machineBusy,
  peakRssMiB,
  ServerUnavailable,
  settle,
  startOurs,
  startScript,
  stop,
  tempDir,
} from './lib/procs.mjs';
import { machine, ratio, table, writeResults } from './lib/report.mjs';
import { addMembers, call, GROUP_SCHEMA, preload } from './lib/scim.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
installCleanup();

const ctx = { tag: randomBytes(3).toString('hex') };
const problems = []; // anything that makes the run exit 1: a server that would not run, a failed check
const warnings = [];
const rand = (n) => Math.floor(Math.random() * n);
const fmt = (n) => n.toLocaleString('en-US');
// Ours on several instances counts as each of its processes (CPU shares, settling).
const running = (servers) =>
  servers
    .filter((s) => !s.failed)
    .flatMap((s) => s.instances ?? [s])
    .filter((s) => s.child && !s.child.exitInfo);
const settleMs = opts.quick ? 5_000 : 15_000;

const allServers = [];

/** autocannon on one server, watching whether other processes took CPU meanwhile. */
async function measure(label, s, driveOptions, extraPercentiles) {
  const pids = [process.pid, ...running(allServers).map((x) => x.pid)];
  const before = cpuSnapshot(pids);
  const run = await driveAny(s, driveOptions);
  const foreign = foreignShare(before, pids);
  const measured = summarise(run, extraPercentiles);
  measured.run = run;
  if (foreign > 0.15) {
    const w = `other processes used ${Math.round(foreign * 100)} % of the CPUs during ${label}: its figures are low`;
    warnings.push(w);
    measured.detail.codes.push(`WARNING: ${w}`);
  }
  return measured;
}

/** Ours, started and preloaded; or { failed } with the reason, never a crash of the run. */
async function bootOurs() {
  let ours;
  try {
    const admin = randomBytes(24).toString('hex');
    const env = opts.store === 'postgres' ? { EVENT_STORE: 'postgres', DATABASE_URL: createBenchDatabase(log).url } : {};
    ours = await startOurs({ root, dataDir: tempDir('bench-ours-'), admin, env });
    ours.env = env;
    log(`ours: ready in ${ours.readySeconds.toFixed(1)} s, SCIM base ${ours.origin}${ours.basePath} (store ${opts.store})`);
    if (opts.instances > 1) {
      // Each instance its own DATA_DIR (read models) on the one store; the load is spread over them.
      ours.instances = [ours];
      for (let i = 1; i < opts.instances; i++) {
        const more = await startOurs({ root, dataDir: tempDir('bench-ours-'), admin, env });
        ours.instances.push(more);
        log(`ours: instance ${i + 1} ready in ${more.readySeconds.toFixed(1)} s on ${more.origin}`);
      }
    }
    ours.ids = await preload(ours, opts.users, { log });
    return ours;
  } catch (err) {
    if (ours?.child) await stop(ours.child, 2000);
    const message = err instanceof ServerUnavailable ? err.message : `preloading failed: ${err.message}`;
    const first = message.split('\n')[0];
    log(
      `\nours: NOT RUNNABLE: ${message}\n  Going on with the peer and the ceiling; ours' rows record the error.\n`,
    );
    problems.push(`ours not runnable: ${first}`);
    return { name: 'ours', failed: first };
  }
}

function serverGone(s, during) {
  // Ours on several instances is gone when any of them is.
  const x = (s.instances ?? [s]).find((i) => i.child?.exitInfo);
  if (x && !s.failed) {
    if (x.logFile) keepPath(x.logFile);
    s.failed = `server exited (${x.child.exitInfo}) during ${during}${x.logFile ? `; its output: ${x.logFile}` : ''}`;
    problems.push(`${s.name}: ${s.failed}`);
    log(`${s.name}: ${s.failed}`);
  }
  return s.failed;
}

/** Check, then measure, one phase on one server. */
async function runPhase(phase, s, servers) {
  const idle = await settle(running(servers), settleMs);
  if (idle > 1) log(`[${phase.name}] waited ${idle.toFixed(1)} s for the servers to go idle`);
  try {
    const warning = await phase.check(s, ctx);
    if (warning) {
      warnings.push(`${phase.name} ${s.name}: ${warning}`);
      log(`[${phase.name}] ${s.name}: ${warning}`);
    }
  } catch (err) {
    if (serverGone(s, `the ${phase.name} check`)) return { error: s.failed };
    const message = `${err instanceof CheckFailed ? 'wrong answer' : 'check failed'}: ${err.message}`;
    problems.push(`${phase.name} ${s.name}: ${message}`);
    log(`[${phase.name}] ${s.name}: ${message}; not measured`);
    return { error: message };
  }
  log(`[${phase.name}] ${s.name}: answers checked; ${opts.duration} s of load …`);
  const { summary, detail } = await measure(`${phase.name} ${s.name}`, s, {
    request: phase.request(s, ctx),
    duration: opts.duration,
    connections: opts.connections,
  });
  if (serverGone(s, phase.name)) return { error: s.failed };
  log(
    `[${phase.name}] ${s.name}: ${fmt(summary.rps)} req/s, p50 ${summary.p50} ms, p99 ${summary.p99} ms, non-2xx ${summary.non2xx}${detail.codes.length ? ` (${detail.codes.join(', ')})` : ''}`,
  );
  return summary;
}

async function createGroup(ours, displayName, memberIds) {
  const created = await call(ours, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName });
  if (created.status !== 201 || typeof created.body?.id !== 'string')
    throw new CheckFailed(`POST /Groups answered ${created.status} ${created.text.slice(0, 300)}`);
  const id = created.body.id;
  let lastNote = Date.now();
  for (let i = 0; i < memberIds.length; i += 1000) {
    const r = await call(ours, 'PATCH', `/Groups/${id}`, addMembers(memberIds.slice(i, i + 1000)));
    if (r.status !== 200 && r.status !== 204)
      throw new CheckFailed(
        `PATCH /Groups/${id} adding members ${i}..${i + 999} answered ${r.status} ${r.text.slice(0, 300)}`,
      );
    if (Date.now() - lastNote > 5000) {
      lastNote = Date.now();
      log(
        `  ours: group ${displayName}: ${Math.min(i + 1000, memberIds.length)}/${memberIds.length} members`,
      );
    }
  }
  return id;
}

async function memberCount(ours, id) {
  const r = await call(ours, 'GET', `/Groups/${id}`);
  if (r.status !== 200)
    throw new CheckFailed(`GET /Groups/${id} answered ${r.status} ${r.text.slice(0, 300)}`);
  return Array.isArray(r.body?.members) ? r.body.members.length : undefined;
}

/** group-add-10 / group-add-50k: latency of adding one new member to a small and a big group. */
async function groupPhases(ours) {
  // Half the preloaded users at most: the other half stay out of groups for the audit seed.
  const adds = Math.min(opts.quick ? 1000 : 5000, Math.floor((ours.ids.length - 10) / 2));
  const pool = ours.ids.slice(10, 10 + adds); // preloaded users in neither group
  ours.templateFrom = 10 + adds; // users above this joined no group (the audit seed clones them)
  const bigLabel = `${fmt(opts.bigGroup)}-member group${opts.quick && opts.bigGroup === 5000 ? ' (--quick: 5,000 instead of 50,000)' : ''}`;
  log(
    `[group-add] ours: a 10-member group and a ${bigLabel}; then ${fmt(adds)} PATCHes adding one new member each, to each group`,
  );
  const rows = [];
  let small;
  for (const [name, size] of [
    ['group-add-10', 10],
    ['group-add-50k', opts.bigGroup],
  ]) {
    try {
      const members =
        size === 10 ? ours.ids.slice(0, 10) : await preload(ours, size, { prefix: `member${ctx.tag}`, log });
      const group = await createGroup(ours, `bench-${size}-${ctx.tag}`, members);
      const before = await memberCount(ours, group);
      if (before !== undefined && before !== size)
        throw new CheckFailed(`the group reads back with ${before} members, expected ${size}`);
      await settle(running([ours]), settleMs);
      log(`[${name}] ours: ${fmt(adds)} single-member adds to the ${fmt(size)}-member group …`);
      const { summary, detail, run } = await measure(`${name} ours`, ours, {
        amount: adds,
        connections: opts.connections,
        request: (n) => ({
          method: 'PATCH',
          path: `${ours.basePath}/Groups/${group}`,
          body: addMembers([pool[n % pool.length]]),
        }),
      });
      if (serverGone(ours, name)) throw new Error(ours.failed);
      const after = await memberCount(ours, group);
      const added = run.result['2xx'];
      if (after !== undefined && after !== size + added)
        throw new CheckFailed(
          `after ${added} successful adds the group has ${after} members, expected ${size + added}`,
        );
      if (after === undefined)
        warnings.push(`${name}: GET /Groups/{id} returned no members array; member counts not verified`);
      const row = { ...summary, groupSize: size };
      if (size === 10) small = summary;
      else if (small) row.p50Ratio = ratio(summary.p50, small.p50);
      log(
        `[${name}] ours: ${fmt(summary.rps)} req/s, p50 ${summary.p50} ms, p99 ${summary.p99} ms, non-2xx ${summary.non2xx}${detail.codes.length ? ` (${detail.codes.join(', ')})` : ''}${row.p50Ratio !== undefined ? `; p50 ${fmt(size)} / p50 10 = ${row.p50Ratio}` : ''}`,
      );
      rows.push({ name, ours: row });
    } catch (err) {
      serverGone(ours, name);
      const message =
        ours.failed ?? `${err instanceof CheckFailed ? 'wrong answer' : 'failed'}: ${err.message}`;
      problems.push(`${name} ours: ${message}`);
      log(`[${name}] ours: ${message}`);
      rows.push({ name, ours: { error: message, groupSize: size } });
    }
  }
  return rows;
}

async function admin(ours, method, path, body, timeoutMs = 60_000) {
  const r = await fetch(`${ours.origin}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ours.admin}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, text, body: json };
}

async function logEvents(ours) {
  try {
    const r = await fetch(`${ours.origin}/health/ready`);
    const head = (await r.json())?.details?.store?.head;
    return head !== undefined ? Number(head) + 1 : undefined;
  } catch {
    return undefined;
  }
}

/** rebuild: POST /api/v1/projections/rebuild (all projections) and the events/s it reports. */
async function rebuildPhase(ours) {
  await settle(running([ours]), settleMs);
  log('[rebuild] ours: POST /api/v1/projections/rebuild …');
  const started = Date.now();
  const r = await admin(ours, 'POST', '/api/v1/projections/rebuild', {}, 60 * 60_000);
  const wallSeconds = Math.round((Date.now() - started) / 100) / 10;
  if (r.status === 404) {
    log('[rebuild] ours: skipped, the endpoint is missing (404)');
    return { skipped: 'endpoint missing' };
  }
  if (r.status !== 200 && r.status !== 201) {
    problems.push(`rebuild ours: answered ${r.status}`);
    return { error: `answered ${r.status} ${r.text.slice(0, 200)}` };
  }
  const list = Array.isArray(r.body) ? r.body : (r.body?.results ?? r.body?.projections ?? [r.body]);
  const projections = list.map((p) => ({
    projection: p?.projection ?? p?.name,
    events: Number(p?.events),
    eventsPerSecond: Number(p?.eventsPerSecond),
  }));
  // One shared pass over the log (every projection reports the same events and rate): its
  // figures are the rebuild's. Separate passes: Σ events ÷ Σ (events ÷ rate).
  const shared =
    projections.length > 0 &&
    projections.every((p) => p.events === projections[0].events && p.eventsPerSecond === projections[0].eventsPerSecond);
  const events = shared
    ? projections[0].events
    : projections.reduce((a, p) => a + (Number.isFinite(p.events) ? p.events : 0), 0);
  const seconds = shared
    ? projections[0].events / projections[0].eventsPerSecond
    : projections.reduce(
        (a, p) => a + (p.eventsPerSecond > 0 && Number.isFinite(p.events) ? p.events / p.eventsPerSecond : 0),
        0,
      );
  const eventsPerSecond =
    seconds > 0 ? Math.round(events / seconds) : (projections[0]?.eventsPerSecond ?? null);
  const row = { eventsPerSecond, events, wallSeconds, sharedPass: shared, logEvents: await logEvents(ours), projections };
  log(
    `[rebuild] ours: ${fmt(events)} events applied at ${fmt(eventsPerSecond ?? 0)} events/s (as reported; ${projections.map((p) => `${p.projection} ${fmt(p.eventsPerSecond)}/s`).join(', ')}), ${wallSeconds} s wall, log of ${fmt(row.logEvents ?? 0)} events`,
  );
  return row;
}

/** audit-query: GET /api/v1/audit/events?filter=target.id eq "…"&limit=100 over N audited events. */
async function auditPhase(ours) {
  if (opts.auditEvents === 0) return { skipped: '--audit-events 0' };
  const probe = await admin(
    ours,
    'GET',
    `/api/v1/audit/events?limit=1&filter=${encodeURIComponent('target.id eq "probe"')}`,
  );
  if (probe.status === 404) {
    log('[audit-query] ours: skipped, the endpoint is missing (404)');
    return { skipped: 'endpoint missing' };
  }
  if (probe.status !== 200)
    throw new CheckFailed(`GET /api/v1/audit/events answered ${probe.status} ${probe.text.slice(0, 200)}`);
  log(
    `[audit-query] ours: stopping the server to grow its log to ${fmt(opts.auditEvents)} audited events${opts.auditEvents !== 1000000 ? ` (${opts.quick ? '--quick' : '--audit-events'}: not the 1,000,000 of the target)` : ''} …`,
  );
  await stop(ours.child, 30_000);
  const templateUser = (u) => {
    const m = /^bench\.user\.(\d{7})@example\.com$/.exec(u);
    return m !== null && Number(m[1]) >= (ours.templateFrom ?? 0);
  };
  let seed;
  try {
    seed = await seedAuditLog({ root, dataDir: ours.dataDir, target: opts.auditEvents, templateUser, log });
  } catch (err) {
    throw new Error(`seeding the log failed: ${err.message}`, { cause: err });
  }
  const started = Date.now();
  const again = await startOurs({
    root,
    dataDir: ours.dataDir,
    admin: ours.admin,
    readyTimeoutMs: 60 * 60_000,
    onWaiting: (status, text) => {
      let detail = '';
      try {
        detail = (JSON.parse(text)?.details?.projections?.list ?? [])
          .map((p) => `${p.name} ${p.position}`)
          .join(', ');
      } catch {
        // not JSON
      }
      log(
        `  ours: starting on the grown log, ${Math.round((Date.now() - started) / 1000)} s (/health/ready: ${status}${detail ? `; ${detail}` : ''})`,
      );
    },
  });
  Object.assign(ours, { child: again.child, pid: again.pid, origin: again.origin });
  const startupSeconds = Math.round((Date.now() - started) / 100) / 10;
  log(`[audit-query] ours: restarted and caught up in ${startupSeconds} s`);
  const query = (id) => `/api/v1/audit/events?filter=${encodeURIComponent(`target.id eq "${id}"`)}&limit=100`;
  for (const t of [seed.targets[0], seed.targets[seed.targets.length - 1]]) {
    const r = await admin(ours, 'GET', query(t.id));
    const rows = Array.isArray(r.body) ? r.body : (r.body?.events ?? r.body?.items ?? r.body?.Resources);
    if (r.status !== 200 || !Array.isArray(rows))
      throw new CheckFailed(`GET ${query(t.id)} answered ${r.status} ${r.text.slice(0, 200)}`);
    if (rows.length !== t.events || rows.some((e) => e?.target?.id !== t.id))
      throw new CheckFailed(
        `the audit query for account ${t.id} returned ${rows.length} events (targets ${[...new Set(rows.map((e) => e?.target?.id))].join(', ')}), expected its ${t.events}`,
      );
  }
  await settle(running([ours]), settleMs);
  log(`[audit-query] ours: answers checked; ${opts.duration} s of load …`);
  const auditServer = { name: 'ours', origin: ours.origin, token: ours.admin };
  const { summary, detail } = await measure(
    'audit-query ours',
    auditServer,
    {
      duration: opts.duration,
      connections: opts.connections,
      request: () => ({ method: 'GET', path: query(seed.targets[rand(seed.targets.length)].id) }),
    },
    [95],
  );
  log(
    `[audit-query] ours: ${fmt(summary.rps)} req/s, p50 ${summary.p50} ms, p95 ${summary.p95} ms, p99 ${summary.p99} ms, non-2xx ${summary.non2xx}${detail.codes.length ? ` (${detail.codes.join(', ')})` : ''}`,
  );
  return {
    ...summary,
    auditedEvents: seed.auditedEvents,
    logEvents: seed.logEvents,
    clonedEvents: seed.clonedEvents,
    seedSeconds: Math.round(seed.seedSeconds * 10) / 10,
    startupSeconds,
  };
}

/** Runs an ours-only phase; a failure is recorded in its row, never ends the run. */
async function oursOnly(name, ours, fn) {
  if (ours.failed) return { name, ours: { error: ours.failed } };
  try {
    return { name, ours: await fn(ours) };
  } catch (err) {
    serverGone(ours, name);
    const message =
      ours.failed ?? `${err instanceof CheckFailed ? 'wrong answer' : 'failed'}: ${err.message}`;
    problems.push(`${name} ours: ${message}`);
    log(`[${name}] ours: ${message}`);
    return { name, ours: { error: message } };
  }
}

/**
 * restart: ours stopped (SIGTERM, its projections checkpointed) and started again on the same
 * store: the seconds until /health/ready answers 200, and a preloaded user read back.
 */
async function restartPhase(ours) {
  await settle(running([ours]), settleMs);
  await stop(ours.child, 30_000);
  const again = await startOurs({ root, dataDir: ours.dataDir, admin: ours.admin, env: ours.env, readyTimeoutMs: 10 * 60_000 });
  Object.assign(ours, { child: again.child, pid: again.pid, origin: again.origin });
  const r = await call(ours, 'GET', `/Users/${ours.ids[1]}`);
  if (r.status !== 200 || r.body?.id !== ours.ids[1]) throw new CheckFailed(`after the restart GET /Users/${ours.ids[1]} answered ${r.status}`);
  log(`[restart] ours: ready again in ${again.readySeconds.toFixed(1)} s`);
  return { readySeconds: Number(again.readySeconds.toFixed(1)) };
}

/** fairness: victim p99 alone and under another tenant's attack (see phases.mjs). */
async function runFairness(ours) {
  await settle(running([ours]), settleMs);
  return fairnessPhase(ours, { drive, summarise, duration: opts.duration, log, attackerUsers: opts.attackerUsers });
}

/** --fairness-only: ours alone, preloaded, then the fairness phase; prints its row. */
async function fairnessOnly() {
  const ours = await bootOurs();
  allServers.push(ours);
  if (ours.failed) throw new Error(ours.failed);
  const row = await oursOnly('fairness', ours, runFairness);
  await stop(ours.child, 30_000);
  console.log(JSON.stringify(row, null, 2));
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  process.exit(problems.length ? 1 : 0);
}

const startedAt = Date.now();

async function main() {
  const names = ['ours', 'peer', 'ceiling'].filter((n) => opts.only.has(n));
  log(
    `benchmark: ${fmt(opts.users)} users, ${opts.duration} s per phase, ${opts.connections} connections, servers ${names.join(', ')}, ours on ${opts.store}${opts.instances > 1 ? ` × ${opts.instances} instances` : ''}` +
      `${opts.quick ? ' (--quick: fewer users, shorter phases, a 5,000-member big group, 50,000 audit events)' : ''}`,
  );
  const busy = await machineBusy();
  if (busy > 0.15) {
    const w = `other processes kept ${Math.round(busy * 100)} % of the CPUs busy before the run: absolute figures are low and ratios noisier`;
    warnings.push(w);
    log(`warning: ${w}`);
  }
  const servers = allServers;
  let ours;
  if (opts.only.has('ours')) servers.push((ours = await bootOurs()));
  let sample;
  if (ours && !ours.failed) {
    const r = await call(ours, 'GET', `/Users/${ours.ids[1]}`);
    if (r.status === 200 && r.body?.id) sample = r.text;
    else
      warnings.push(
        `could not read a user back from ours for the ceiling's body (${r.status}); the ceiling uses its built-in user`,
      );
  }
  if (opts.only.has('peer')) {
    const token = randomUUID();
    const peer = {
      ...(await startScript({
        name: 'peer',
        script: join(here, 'peer-server.mjs'),
        env: { PEER_TOKEN: token },
      })),
      basePath: '/scim',
      token,
    };
    log(`peer: listening on ${peer.origin}${peer.basePath}`);
    try {
      peer.ids = await preload(peer, opts.users, { log });
    } catch (err) {
      // An in-memory peer may run out of memory on a big import: a result to report (its rows
      // say so), not a failure of the run.
      const exit = peer.child?.exitInfo;
      peer.failed = exit ? `exited (${exit}) during the first import` : `first import failed: ${err.message.split('\n')[0]}`;
      warnings.push(`peer: ${peer.failed}`);
      log(`peer: ${peer.failed}`);
    }
    servers.push(peer);
  }
  if (opts.only.has('ceiling')) {
    const ceiling = {
      ...(await startScript({
        name: 'ceiling',
        script: join(here, 'ceiling-server.mjs'),
        env: sample ? { CEILING_USER: sample } : {},
      })),
      basePath: '/scim',
      token: 'ceiling',
    };
    ceiling.ids = servers.find((s) => s.ids)?.ids ?? Array.from({ length: opts.users }, () => randomUUID());
    log(
      `ceiling: listening on ${ceiling.origin}, answering ${sample ? `ours' user ${ours.ids[1]} (${Buffer.byteLength(sample)} bytes)` : 'its built-in user'}`,
    );
    servers.push(ceiling);
  }

  const phases = [];
  if (opts.runs('first-import')) {
    // The preload is the first import of a directory: every user POSTed by 32 clients at once.
    const row = { name: 'first-import' };
    for (const s of servers.filter((x) => x.name !== 'ceiling')) {
      row[s.name] = s.failed
        ? { error: s.failed }
        : { rps: Math.round(s.ids.length / s.ids.importSeconds), users: s.ids.length, clients: 32, importSeconds: Number(s.ids.importSeconds.toFixed(1)) };
    }
    row.ratioPeer = ratio(row.ours?.rps, row.peer?.rps);
    phases.push(row);
  }
  for (const phase of PHASES.filter((p) => opts.runs(p.name))) {
    const row = { name: phase.name };
    for (const s of servers) row[s.name] = s.failed ? { error: s.failed } : await runPhase(phase, s, servers);
    row.ratioPeer = ratio(row.ours?.rps, row.peer?.rps);
    row.ratioCeiling = ratio(row.ours?.rps, row.ceiling?.rps);
    if (row.ours && !row.ours.error)
      log(`[${phase.name}] ours/peer ${row.ratioPeer ?? '–'}, ours/ceiling ${row.ratioCeiling ?? '–'}`);
    phases.push(row);
  }

  if (ours) {
    if (opts.runs('group-add')) {
      if (ours.failed)
        for (const name of ['group-add-10', 'group-add-50k'])
          phases.push({ name, ours: { error: ours.failed } });
      else phases.push(...(await groupPhases(ours)));
    }
    if (opts.runs('rebuild')) phases.push(await oursOnly('rebuild', ours, rebuildPhase));
    if (opts.runs('fairness')) phases.push(await oursOnly('fairness', ours, runFairness));
  }
  const rss = { name: 'peak-rss' };
  for (const s of opts.runs('peak-rss') ? servers : []) {
    if (s.failed) rss[s.name] = { error: s.failed };
    else {
      rss[s.name] = { vmHwmMiB: peakRssMiB(s.pid) };
      if (s.name !== 'ceiling') {
        const r = await call(s, 'GET', '/Users?startIndex=1&count=1').catch(() => undefined);
        if (Number.isInteger(r?.body?.totalResults)) rss[s.name].users = r.body.totalResults;
      }
      log(
        `[peak-rss] ${s.name}: VmHWM ${rss[s.name].vmHwmMiB} MiB${rss[s.name].users !== undefined ? ` with ${fmt(rss[s.name].users)} users` : ''}`,
      );
    }
  }
  if (opts.runs('peak-rss')) phases.push(rss);
  for (const s of servers) if (s.name !== 'ours') await stop(s.child, 2000);
  if (ours && opts.runs('restart') && opts.instances === 1) phases.push(await oursOnly('restart', ours, restartPhase));
  if (ours && opts.runs('audit-query'))
    phases.push(
      opts.store === 'sqlite'
        ? await oursOnly('audit-query', ours, auditPhase)
        : { name: 'audit-query', ours: { skipped: 'embedded store only (the log is grown offline in scim.db)' } },
    );
  for (const x of ours?.instances?.slice(1) ?? []) await stop(x.child, 30_000);
  if (ours?.child) await stop(ours.child, 30_000);

  const report = {
    machine: machine(),
    date: new Date().toISOString(),
    users: opts.users,
    quick: opts.quick,
    store: opts.store,
    instances: opts.instances,
    phases,
  };
  const file = writeResults(join(here, 'results'), report);
  const oursLabel = opts.store === 'sqlite' ? 'ours' : `ours (${opts.store}${opts.instances > 1 ? ` ×${opts.instances}` : ''})`;
  console.log(`\n${table(phases, { quick: opts.quick, oursLabel })}\n`);
  console.log(
    `${fmt(opts.users)} users, ${opts.duration} s phases, ${opts.connections} connections${opts.quick ? ', --quick' : ''}; ${report.machine.cpus} × ${report.machine.model}, ${report.machine.memGiB} GiB, Node ${report.machine.node}`,
  );
  console.log(
    `ratios are ours ÷ peer and ours ÷ ceiling in req/s, from this run only; ${Math.round((Date.now() - startedAt) / 1000)} s in all; written ${file.slice(root.length + 1)}`,
  );
  for (const w of warnings) console.log(`warning: ${w}`);
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  process.exit(problems.length ? 1 : 0);
}

(opts.fairnessOnly ? fairnessOnly() : main()).catch((err) => {
  log(`benchmark failed: ${err?.stack ?? err}`);
  process.exit(1);
});
