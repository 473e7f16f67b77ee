import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from '../support/child-server';
import { waitFor } from '@app/testing';

const ADMIN = 'disk-full-admin-token-0123456789';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** A real small file system (tmpfs) when this process may mount one (root in a container). */
function mountTmpfs(dir: string, size: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}

/** Writes until the file system says ENOSPC; returns the filler's path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

describe('a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-full-'));
  const mounted = mountTmpfs(dir, '24m');
  let server: ChildServer | undefined;
  afterAll(async () => {
    await server?.kill();
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
  if (!mounted) process.stderr.write('disk-full: skipped, this process may not mount a tmpfs (it needs root)\n');

  (mounted ? it : it.skip)('answers writes 507, reports readiness down, and recovers by itself when space returns; nothing acknowledged is lost', async () => {
    const data = join(dir, 'data');
    mkdirSync(data);
    const env = { DATA_DIR: data, ADMIN_TOKEN: ADMIN, RATE_LIMIT_PER_MINUTE: '1000000' };
    server = await ChildServer.start(env);
    const url = server.url;
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/scim+json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
    };
    const token = (await call('POST', '/api/v1/scim/tokens', ADMIN, { scope: 'application' })).body.scim_token as string;
    const base = '/api/scim/v2/application';
    const acknowledged: string[] = [];
    let n = 0;
    const post = () => call('POST', `${base}/Users`, token, { schemas: [USER], userName: `full${n++}@example.com`, title: 'x'.repeat(2000) });
    for (let i = 0; i < 20; i++) {
      const r = await post();
      expect(r.status).toBe(201);
      acknowledged.push(r.body.id);
    }

    const filler = fillDisk(dir);
    const statuses = new Set<number>();
    let full: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 500 && !full; i++) {
      const r = await post();
      statuses.add(r.status);
      if (r.status === 201) acknowledged.push(r.body.id);
      else if (r.status === 507) full = r;
    }
    expect([...statuses].filter((s) => s !== 201 && s !== 507)).toEqual([]);
    expect(full).toBeDefined();
    expect(full!.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '507' });
    expect(full!.body.detail).toMatch(/disk space/);
    const ready = await call('GET', '/health/ready', ADMIN);
    expect(ready.status).toBe(503);
    expect(ready.body.details.storage).toMatchObject({ status: 'down', writable: false });
    // Reads keep working meanwhile.
    expect((await call('GET', `${base}/Users/${acknowledged[0]}`, token)).status).toBe(200);

    rmSync(filler);
    await waitFor(async () => (await call('GET', '/health/ready', ADMIN)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'readiness once the disk has space again',
    });
    const after = await post();
    expect(after.status).toBe(201);
    acknowledged.push(after.body.id);

    // Everything acknowledged is there, also after a hard kill.
    await server.kill('SIGKILL');
    server = await ChildServer.start(env);
    for (const id of acknowledged) expect((await fetch(`${server.url}${base}/Users/${id}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  }, 120_000);
});

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'scim-server', 'src', 'main.js');

describe('an unusable DATA_DIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-datadir-'));
  const readOnly = join(dir, 'ro');
  mkdirSync(readOnly);
  const roMounted = spawnSync('mount', ['-o', 'bind,ro', readOnly, readOnly], { stdio: 'ignore' }).status === 0;
  afterAll(() => {
    if (roMounted) execFileSync('umount', [readOnly]);
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (dataDir: string) =>
    spawnSync(process.execPath, [MAIN], { env: { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' }, encoding: 'utf8', timeout: 30_000 });

  it('stops with exit code 78 and one clear line, not a stack trace: a regular file, a path under a file, a read-only directory', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const cases: [string, RegExp][] = [
      [file, /DATA_DIR .*a-file cannot be created \(EEXIST/],
      [join(file, 'sub'), /DATA_DIR .*sub cannot be created \(ENOTDIR/],
      ...(roMounted ? ([[readOnly, /DATA_DIR .*ro is not writable \(EROFS: read-only file system\)/]] as [string, RegExp][]) : []),
    ];
    for (const [dataDir, message] of cases) {
      const r = start(dataDir);
      expect({ dataDir, status: r.status }).toEqual({ dataDir, status: 78 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 60_000);
});
