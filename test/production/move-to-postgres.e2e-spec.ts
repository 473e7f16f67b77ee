import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from '@app/event-store/testing/postgres-test-database';
import { ChildServer } from '../support/child-server';
import { ADMIN_TOKEN, type HttpResult, type ScimClient, userBody } from '../support/test-server';
import { allUsers } from './support/cluster';

const ROOT = join(__dirname, '..', '..');
const SERVER = join(ROOT, 'dist', 'apps', 'scim-server', 'src', 'main.js');
const CLI = join(ROOT, 'dist', 'apps', 'scimctl', 'src', 'main.js');
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const BASE_ENV = { ADMIN_TOKEN, PUBLIC_URL: 'http://scim.example.test', LOG_LEVEL: 'warn', AUDIT_CHECKPOINT_INTERVAL_MS: '0', RATE_LIMIT_PER_MINUTE: '1000000' };

function run(file: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function http<T = any>(url: string, method: string, token: string, body?: unknown): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/scim+json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

const scimClient = (server: ChildServer, auth: { token: string; path: string }): ScimClient => ({
  base: `${server.url}${auth.path}`,
  token: auth.token,
  request: (method, path, body) => http(`${server.url}${auth.path}${path}`, method, auth.token, body),
});
const admin = (server: ChildServer, method: string, path: string, body?: unknown) => http(`${server.url}${path}`, method, ADMIN_TOKEN, body);

/** What an operator would compare before and after: every user and group as SCIM serves them, and the audit chains. */
async function snapshot(server: ChildServer, scopes: { token: string; path: string }[]) {
  const out: Record<string, unknown> = {};
  for (const auth of scopes) {
    const scim = scimClient(server, auth);
    const groups = (await scim.request('GET', '/Groups?count=1000')).body.Resources as { id: string; members?: { value: string }[] }[];
    out[auth.path] = {
      users: await allUsers(scim),
      groups: groups
        .map((g) => ({ ...g, members: (g.members ?? []).map((m) => m.value).sort() }))
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
    };
  }
  const heads = (await admin(server, 'GET', '/api/v1/audit/heads')).body as unknown;
  const checkpoints = (await admin(server, 'GET', '/api/v1/audit/checkpoints')).body as { scope: string; position: string; headHash: string }[];
  return { scopes: out, heads, checkpoints: checkpoints.map((c) => `${c.scope}@${c.position}:${c.headHash}`).sort() };
}

const unavailable = postgresUnavailableReason();
if (unavailable) console.warn(`moving the embedded log to PostgreSQL skipped: ${unavailable}`);

/**
 * The move an operator makes from one process on the embedded store to PostgreSQL: populate
 * over HTTP, stop, `migrate-log`, start on PostgreSQL with an empty DATA_DIR, and find the
 * same people, groups, versions, tokens and audit chains.
 */
(unavailable ? describe.skip : describe)('moving the embedded log to PostgreSQL (migrate-log)', () => {
  const dirs: string[] = [];
  let db: TestDatabase;
  const servers: ChildServer[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'scim-move-'));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('copies every stream with its events; the PostgreSQL server serves the same users, groups, versions and audit chains', async () => {
    // 1. One process on the embedded store, populated as IdPs and an administrator would.
    const embeddedDir = dir();
    const embedded = await ChildServer.start({ ...BASE_ENV, DATA_DIR: embeddedDir }, { readyWithinMs: 60_000 });
    servers.push(embedded);
    const token = async (body: unknown) => {
      const r = await admin(embedded, 'POST', '/api/v1/scim/tokens', body);
      expect(r.status).toBe(201);
      return { token: r.body.scim_token as string, path: new URL(r.body.scim_api_url).pathname };
    };
    expect((await admin(embedded, 'POST', '/api/v1/groups', { path: 'acme', name: 'Acme', verifiedDomains: ['acme.test'] })).status).toBe(201);
    const instance = await token({ scope: 'application' });
    const acme = await token({ scope: 'group', groupPath: 'acme' });
    const scim = scimClient(embedded, instance);
    const users: { id: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await scim.request('POST', '/Users', userBody(`mover${i}@example.com`, { externalId: `ext-${i}` }));
      expect(r.status).toBe(201);
      users.push(r.body);
    }
    for (const u of users.slice(0, 4)) {
      expect((await scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200);
    }
    expect((await scimClient(embedded, acme).request('POST', '/Users', userBody('dev@acme.test'))).status).toBe(201);
    const group = (await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Movers' })).body;
    const patched = await scim.request('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: users.slice(4, 10).map((u) => ({ value: u.id })) }] });
    expect([200, 204]).toContain(patched.status);
    expect((await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Empty' })).status).toBe(201);
    const signed = await admin(embedded, 'POST', '/api/v1/audit/checkpoints');
    expect(signed.status).toBeLessThan(300);
    const before = await snapshot(embedded, [instance, acme]);
    expect(before.checkpoints.length).toBeGreaterThan(0);
    await embedded.kill('SIGTERM');

    // 2. The move, twice: the second run finds everything there and inserts nothing.
    const env = { DATABASE_URL: db.url };
    const first = await run(SERVER, ['migrate-log', '--from', `sqlite:${embeddedDir}`, '--to', 'postgres'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/copied \d+ events .*\(\d+ new, 0 already there\)/);
    expect(first.stdout).toContain('published the audit signing key');
    const again = await run(SERVER, ['migrate-log', '--from', `sqlite:${embeddedDir}`, '--to', 'postgres'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\(0 new, \d+ already there\)/);

    // 3. A server on PostgreSQL with an empty DATA_DIR (its own new signing key): read models from the log alone.
    const pg = await ChildServer.start({ ...BASE_ENV, EVENT_STORE: 'postgres', DATABASE_URL: db.url, DATA_DIR: dir() }, { readyWithinMs: 60_000 });
    servers.push(pg);
    const after = await snapshot(pg, [instance, acme]);
    expect(after).toEqual(before);
    // The same SCIM token works, and new writes go after the copied log.
    const created = await scimClient(pg, instance).request('POST', '/Users', userBody('after-the-move@example.com'));
    expect(created.status).toBe(201);
    // Uniqueness moved with the log: an active user's userName is still taken.
    expect((await scimClient(pg, instance).request('POST', '/Users', userBody('mover5@example.com'))).status).toBe(409);

    // 4. An audit export of the moved log verifies offline, old checkpoints included.
    const bundle = dir();
    const exported = await run(CLI, ['audit', 'export', '--out', bundle], { SCIMCTL_URL: pg.url, SCIMCTL_TOKEN: ADMIN_TOKEN });
    expect(exported.code).toBe(0);
    const verified = await run(CLI, ['audit', 'verify', bundle], {});
    expect(verified.stdout).toMatch(/^OK: .* signed checkpoints verified/);
    expect(verified.code).toBe(0);
  }, 240_000);

  it('refuses bad arguments, and a database a server already wrote to', async () => {
    const emptyDir = dir();
    const usage = await run(SERVER, ['migrate-log', '--from', emptyDir, '--to', 'postgres'], { DATABASE_URL: db.url });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--from must be sqlite:<DATA_DIR>');
    const missing = await run(SERVER, ['migrate-log', '--from', `sqlite:${emptyDir}`, '--to', 'postgres'], { DATABASE_URL: db.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no embedded store');

    const other = await createTestDatabase();
    try {
      const sourceDir = dir();
      const embedded = await ChildServer.start({ ...BASE_ENV, DATA_DIR: sourceDir }, { readyWithinMs: 60_000 });
      servers.push(embedded);
      expect((await admin(embedded, 'POST', '/api/v1/scim/tokens', { scope: 'application' })).status).toBe(201);
      await embedded.kill('SIGTERM');
      // A server started on the target first: its bootstrap events sit where the copy would go.
      const early = await ChildServer.start({ ...BASE_ENV, EVENT_STORE: 'postgres', DATABASE_URL: other.url, DATA_DIR: dir() }, { readyWithinMs: 60_000 });
      servers.push(early);
      await early.kill('SIGTERM');
      const refused = await run(SERVER, ['migrate-log', '--from', `sqlite:${sourceDir}`, '--to', 'postgres'], { DATABASE_URL: other.url });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/refused: The target store holds, at position \d+/);
    } finally {
      await other.drop();
    }
  }, 240_000);
});
