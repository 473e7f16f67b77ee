// Child servers: start, wait until ready, stop, and kill them all whenever this process
// ends (normal exit, error, Ctrl-C, SIGTERM). Also reads /proc for RSS and CPU use.
import { fork, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const log = (m) => process.stderr.write(`${m}\n`);

const children = new Set();
const tempPaths = new Set();

/** Kill every child on any way out; remove temp data. Call once, first thing. */
export function installCleanup() {
  const killAll = () => {
    for (const c of children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    children.clear();
    for (const p of tempPaths) rmSync(p, { recursive: true, force: true });
  };
  process.on('exit', killAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(signal, () => {
      log(`\n${signal}: stopping the servers`);
      process.exit(code);
    });
  }
  process.on('uncaughtException', (err) => {
    log(`benchmark failed: ${err?.stack ?? err}`);
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    log(`benchmark failed: ${err?.stack ?? err}`);
    process.exit(1);
  });
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempPaths.add(dir);
  return dir;
}

/** Leave this path on disk at exit (e.g. a server log worth reading). */
export function keepPath(path) {
  tempPaths.delete(path);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function track(child) {
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      child.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      resolve(child.exitInfo);
    });
  });
  return child;
}

export class ServerUnavailable extends Error {}

function tail(file, lines = 25) {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return '    | (no output)';
  }
}

/**
 * Ours: `node dist/apps/scim-server/main.js` (or `…/src/main.js`, where the build puts it) on a
 * data dir. Resolves when GET /health/ready answers 200 and a SCIM token has been issued.
 */
export async function startOurs({ root, dataDir, admin, readyTimeoutMs = 120_000, onWaiting, env = {} }) {
  // BENCH_SERVER_MAIN overrides the entry point (e.g. to bench another build).
  const candidates = process.env.BENCH_SERVER_MAIN
    ? [process.env.BENCH_SERVER_MAIN]
    : [join(root, 'dist/apps/scim-server/main.js'), join(root, 'dist/apps/scim-server/src/main.js')];
  const main = candidates.find((c) => existsSync(c));
  const show = (p) => (p.startsWith(`${root}/`) ? relative(root, p) : p);
  if (!main)
    throw new ServerUnavailable(
      `no build of the server (looked for ${candidates.map(show).join(', ')}): run npm run build (npm run bench builds first)`,
    );
  const port = await freePort();
  const logFile = join(dataDir, '..', `${dataDir.split('/').pop()}.log`);
  tempPaths.add(logFile);
  const fd = openSync(logFile, 'a');
  const child = track(
    spawn(process.execPath, [main], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_TOKEN: admin,
        RATE_LIMIT_PER_MINUTE: '100000000',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', fd, fd],
    }),
  );
  closeSync(fd);
  const origin = `http://127.0.0.1:${port}`;
  const fail = (why) => {
    keepPath(logFile);
    return new ServerUnavailable(`${why}\n  server output (${logFile}):\n${tail(logFile)}`);
  };
  const started = Date.now();
  let lastNote = started;
  for (;;) {
    if (child.exitInfo)
      throw fail(`${show(main)} exited (${child.exitInfo}) before /health/ready answered 200`);
    let status;
    let body = '';
    try {
      const r = await fetch(`${origin}/health/ready`, { signal: AbortSignal.timeout(5000) });
      body = await r.text();
      if (r.status === 200) break;
      status = r.status;
    } catch {
      status = 'not listening yet';
    }
    if (onWaiting && Date.now() - lastNote > 15_000) {
      lastNote = Date.now();
      onWaiting(status, body);
    }
    if (Date.now() - started > readyTimeoutMs) {
      child.kill('SIGKILL');
      throw fail(`GET /health/ready did not answer 200 within ${readyTimeoutMs / 1000} s`);
    }
    await sleep(child.exitInfo ? 0 : 200);
  }
  const readySeconds = (Date.now() - started) / 1000;
  const r = await fetch(`${origin}/api/v1/scim/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'application' }),
  });
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (r.status !== 201 || typeof body?.scim_api_url !== 'string' || typeof body?.scim_token !== 'string') {
    child.kill('SIGKILL');
    throw fail(
      `POST /api/v1/scim/tokens {"scope":"application"} answered ${r.status} ${text.slice(0, 300)} (expected 201 {"id","scim_api_url","scim_token"})`,
    );
  }
  const basePath = new URL(body.scim_api_url).pathname.replace(/\/+$/, '');
  return {
    name: 'ours',
    origin,
    basePath,
    token: body.scim_token,
    admin,
    child,
    pid: child.pid,
    dataDir,
    logFile,
    readySeconds,
  };
}

/** peer-server.mjs / ceiling-server.mjs: forked, they send 'ready' once listening. */
export async function startScript({ name, script, env = {} }) {
  const port = await freePort();
  const child = track(
    fork(script, [], {
      env: { ...process.env, PORT: String(port), ...env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  await Promise.race([
    new Promise((resolve) => child.once('message', resolve)),
    child.exited.then((info) => {
      throw new ServerUnavailable(`${name} (${script}) exited (${info}) before it was listening`);
    }),
    sleep(30_000).then(() => {
      throw new ServerUnavailable(`${name} did not start listening within 30 s`);
    }),
  ]);
  return { name, origin: `http://127.0.0.1:${port}`, child, pid: child.pid };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stop(child, graceMs = 10_000) {
  if (!child || child.exitInfo) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(t);
}

function procStatus(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) of a live process, in MiB. */
export const peakRssMiB = (pid) => procStatus(pid, 'VmHWM');

function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
  } catch {
    return undefined;
  }
}

/**
 * Waits until none of the servers burns CPU (< 5 % of a core over 300 ms): background work
 * left over from one server's phase (projections catching up, GC) must not slow the next one.
 */
export async function settle(servers, maxMs = 15_000) {
  const pids = servers.map((s) => s.pid).filter((p) => p && cpuTicks(p) !== undefined);
  const started = Date.now();
  let before = pids.map(cpuTicks);
  for (;;) {
    await sleep(300);
    const after = pids.map(cpuTicks);
    const busy = after.some((t, i) => t !== undefined && before[i] !== undefined && t - before[i] > 1.5);
    if (!busy) return (Date.now() - started) / 1000;
    if (Date.now() - started > maxMs) {
      log(`  (servers still busy after ${maxMs / 1000} s; going on)`);
      return maxMs / 1000;
    }
    before = after;
  }
}

function cpuTotals() {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = f.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user). Interrupt
  // time is left out of `busy`: loopback traffic of the benchmark itself lands there.
  return { busy: n[0] + n[1] + n[2], total: n.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/** Share of all CPUs busy over `ms` (0..1), e.g. with other people's tests, before we start. */
export async function machineBusy(ms = 1000) {
  try {
    const a = cpuTotals();
    await sleep(ms);
    const b = cpuTotals();
    return (b.busy - a.busy) / Math.max(1, b.total - a.total);
  } catch {
    return undefined;
  }
}

/** A reading to pass to `foreignShare` later. */
export function cpuSnapshot(pids) {
  try {
    return { ...cpuTotals(), own: pids.reduce((a, p) => a + (cpuTicks(p) ?? 0), 0) };
  } catch {
    return undefined;
  }
}

/**
 * Share of all CPUs (0..1) that processes other than `pids` (this harness and its servers)
 * used since `before`: other people's builds and tests skew a measurement.
 */
export function foreignShare(before, pids) {
  const after = cpuSnapshot(pids);
  if (!before || !after) return undefined;
  const busy = after.busy - before.busy;
  return Math.max(0, busy - (after.own - before.own)) / Math.max(1, after.total - before.total);
}
