import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '@app/event-store/testing/postgres-test-database';
import { waitFor } from '@app/testing';
import { ChildServer, freePort } from '../support/child-server';
import { userBody } from '../support/test-server';

/**
 * `docker-compose.postgres.yml` as an operator brings it up, without Docker (no engine runs
 * here or in CI): its two SCIM services as real processes with the environment the compose
 * file gives them, its own health check command, and nginx with `deploy/nginx-scim.conf` in front,
 * only the addresses changed (service names and ports become loopback ports). An IdP then
 * provisions through the proxy, and a write through either instance is read through the other.
 * What this cannot show is the image itself (the Dockerfile); the README says so.
 */
const ROOT = join(__dirname, '..', '..');

function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Compose's variable substitution for the forms the file uses: `${VAR}`, `${VAR:-default}` and
 * `${VAR:?message}`. Written here rather than taken from a library: no npm package implements
 * compose's rules, and these three lines are all the file needs.
 */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '-') return arg ?? '';
    throw new Error(`compose: ${name} is required: ${arg}`);
  });
}

const pgReason = postgresUnavailableReason();
const nginx = nginxBinary();
const skip = pgReason ?? (nginx ? undefined : 'nginx is not installed (apt-get install nginx-light)');
if (skip) console.warn(`docker-compose.postgres.yml without Docker skipped: ${skip}`);

(skip ? describe.skip : describe)('docker-compose.postgres.yml, brought up without Docker', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.postgres.yml'), 'utf8'), { merge: true });
  const work = mkdtempSync(join(tmpdir(), 'scim-compose-'));
  const adminToken = 'compose-admin-token-0123456789ab';
  let db: TestDatabase;
  let proxyUrl: string;
  let proxy: ChildProcess | undefined;
  const instances: ChildServer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const proxyPort = await freePort();
    proxyUrl = `http://127.0.0.1:${proxyPort}`;
    const vars = { ADMIN_TOKEN: adminToken, POSTGRES_PASSWORD: 'unused-here', PUBLIC_URL: proxyUrl };
    const ports: number[] = [];
    for (const name of ['scim-1', 'scim-2']) {
      const service = compose.services[name];
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(service.environment as Record<string, string>)) env[k] = interpolate(String(v), vars);
      // Only what names the compose network changes: the database (here a test database on the
      // local server) and the data volume (a directory per instance).
      expect(env.DATABASE_URL).toMatch(/@postgres:5432\//);
      env.DATABASE_URL = db.url;
      env.DATA_DIR = mkdtempSync(join(work, `${name}-`));
      const server = await ChildServer.start(env, { readyWithinMs: 60_000 });
      instances.push(server);
      ports.push(server.port);
      // The compose file's own health check, pointed at this instance.
      const [cmd, program, flag, script] = service.healthcheck.test as string[];
      expect([cmd, program, flag]).toEqual(['CMD', 'node', '-e']);
      execFileSync(process.execPath, ['-e', script.replace('127.0.0.1:3000', `127.0.0.1:${server.port}`)], { timeout: 10_000 });
    }
    const site = readFileSync(join(ROOT, 'deploy', 'nginx-scim.conf'), 'utf8')
      .replace('server scim-1:3000', `server 127.0.0.1:${ports[0]}`)
      .replace('server scim-2:3000', `server 127.0.0.1:${ports[1]}`)
      .replace('listen 8080;', `listen 127.0.0.1:${proxyPort};`);
    expect(site).not.toMatch(/scim-[12]:3000|listen 8080/);
    writeFileSync(join(work, 'site.conf'), site);
    writeFileSync(
      join(work, 'nginx.conf'),
      `worker_processes 1;\npid ${work}/nginx.pid;\nerror_log ${work}/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${work};\n  proxy_temp_path ${work};\n  include ${work}/site.conf;\n}\n`,
    );
    proxy = spawn(nginx as string, ['-p', work, '-c', join(work, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    await waitFor(async () => (await fetch(`${proxyUrl}/health/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 20_000, intervalMs: 50, what: 'nginx to answer' });
  }, 180_000);

  afterAll(async () => {
    proxy?.kill('SIGTERM');
    await Promise.all(instances.map((s) => s.kill()));
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  const call = async (base: string, method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': body === undefined ? 'application/json' : 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('provisions through the proxy, and either instance reads what the other wrote', async () => {
    const issued = await fetch(`${proxyUrl}/api/v1/scim/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'application' }),
    }).then((r) => r.json() as Promise<{ scim_api_url: string; scim_token: string }>);
    // PUBLIC_URL from the compose file: the IdP is sent to the proxy, never to an instance.
    expect(issued.scim_api_url).toBe(`${proxyUrl}/api/scim/v2/application`);
    const path = new URL(issued.scim_api_url).pathname;

    const created: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await call(proxyUrl, 'POST', `${path}/Users`, issued.scim_token, userBody(`compose${i}@example.com`));
      expect(r.status).toBe(201);
      expect(r.body.meta.location).toBe(`${proxyUrl}${path}/Users/${r.body.id}`);
      created.push(r.body.id);
    }
    // Each instance answers for every user, whichever instance the proxy gave the write to.
    for (const server of instances) {
      for (const id of created) expect((await call(server.url, 'GET', `${path}/Users/${id}`, issued.scim_token)).status).toBe(200);
      const list = await call(server.url, 'GET', `${path}/Users?filter=${encodeURIComponent('userName sw "compose"')}`, issued.scim_token);
      expect(list.body.totalResults).toBe(6);
    }

    // One instance down: the proxy skips it (a refused connection), and no write is lost.
    await instances[1].kill();
    for (let i = 6; i < 10; i++) {
      const r = await call(proxyUrl, 'POST', `${path}/Users`, issued.scim_token, userBody(`compose${i}@example.com`));
      expect(r.status).toBe(201);
    }
    const all = await call(proxyUrl, 'GET', `${path}/Users?filter=${encodeURIComponent('userName sw "compose"')}`, issued.scim_token);
    expect(all.body.totalResults).toBe(10);
  }, 120_000);
});
