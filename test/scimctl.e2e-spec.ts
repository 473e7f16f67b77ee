import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, TestServer, userBody } from './support/test-server';

const CLI = join(__dirname, '..', 'dist', 'apps', 'scimctl', 'src', 'main.js');

/** The built CLI (pretest builds it) against a real server, as an administrator would run it. */
describe('scimctl', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterAll(() => server.stop());

  const run = (args: string[], token = ADMIN_TOKEN) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SCIMCTL_URL: server.url, SCIMCTL_TOKEN: token } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('manages groups, links and tokens, with --json for scripts', async () => {
    expect((await run(['groups', 'create', '--path', 'cli', '--name', 'CLI', '--default-role', 'developer', '--json'])).code).toBe(0);
    const list = await run(['groups', 'list']);
    expect(list.stdout).toMatch(/^FULL PATH\s+NAME\s+DEFAULT ROLE/);
    expect(list.stdout).toMatch(/^cli\s+CLI\s+developer/m);
    const link = await run(['links', 'create', '--saml-group', 'cli-devs', '--group-path', 'cli', '--access-level', 'maintainer', '--json']);
    expect(JSON.parse(link.stdout)).toMatchObject({ samlGroupName: 'cli-devs', groupPath: 'cli', accessLevel: 'maintainer' });
    const token = JSON.parse((await run(['scim-tokens', 'create', '--scope', 'group', '--group-path', 'cli', '--json'])).stdout);
    expect(token.scim_api_url).toBe(`${server.url}/api/scim/v2/groups/cli`);
    const support = JSON.parse((await run(['tokens', 'create', '--role', 'support', '--json'])).stdout);
    expect(support.token).toMatch(/^scimadm_/);
    expect((await run(['tokens', 'create', '--role', 'support'], support.token)).code).toBe(4);
  });

  it('looks people up, shows a timeline, and reports projections', async () => {
    const scim = await server.scim();
    const u = (await scim.request('POST', '/Users', userBody('cli.user@example.com', { externalId: 'cli-ext' }))).body;
    const found = JSON.parse((await run(['users', 'lookup', 'cli-ext', '--json'])).stdout);
    expect(found.accounts).toHaveLength(1);
    const timeline = await run(['users', 'timeline', found.accounts[0]]);
    expect(timeline.stdout).toMatch(/UserProvisioned/);
    expect((await run(['users', 'diagnose', 'CLI-EXT'])).stdout).toContain('case_only_mismatch');
    expect((await run(['projections', 'status'])).stdout).toMatch(/scim-users\s+v\d+\s+position \d+\s+lag 0/);
    void u;
  });

  it('exports an audit bundle and verifies it offline against a pinned key; removing a scope fails, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimctl-audit-'));
    try {
      const bundle = join(dir, 'bundle');
      const exported = await run(['audit', 'export', '--out', bundle]);
      expect(exported.code).toBe(0);
      expect(exported.stdout).toMatch(/bundle written to .*: \d+ events/);
      // stderr is not a terminal here: plain progress lines with counts.
      expect(exported.stderr).toMatch(/downloading events.ndjson: 100% [\d,]+\/[\d,]+ events/);
      const keys = JSON.parse((await run(['audit', 'keys', '--json'])).stdout) as { fingerprint: string }[];
      const pinned = await run(['audit', 'verify', bundle, '--key', keys[0].fingerprint]);
      expect(pinned.code).toBe(0);
      expect(pinned.stdout).toMatch(/^OK: \d+ events in \d+ scopes/);
      expect(pinned.stdout).toMatch(/scope instance: \d+ events .*, \d+ covered by signed checkpoints/);
      expect(pinned.stdout).toContain(`key: pinned, SHA-256 ${keys[0].fingerprint}`);
      expect(pinned.stderr).toMatch(/verifying events.ndjson: 100%/);
      const unpinned = await run(['audit', 'verify', bundle, '--quiet']);
      expect(unpinned.code).toBe(0);
      expect(unpinned.stdout).toContain(`NOT pinned; trusted the bundle's own key, SHA-256 ${keys[0].fingerprint}`);
      expect((await run(['audit', 'verify', bundle, '--key', 'ab'.repeat(32)])).stdout).toMatch(/FAILED: manifest.json is signed with key [0-9a-f]{64}, which is not a pinned key/);

      // Every record of scope "instance" removed, the file's digest recomputed in the manifest.
      const events = readFileSync(join(bundle, 'events.ndjson'), 'utf8').split('\n').filter((l) => l && JSON.parse(l).scope !== 'instance');
      const text = `${events.join('\n')}\n`;
      writeFileSync(join(bundle, 'events.ndjson'), text);
      const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
      manifest.files['events.ndjson'] = { bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
      writeFileSync(join(bundle, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
      const tampered = await run(['audit', 'verify', bundle, '--key', keys[0].fingerprint]);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toMatch(/^FAILED: manifest.json/);
      expect(tampered.stdout).toMatch(/scope instance: the signed manifest counts \d+ records in the range, the bundle holds none/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses exit codes that mean something', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['users', 'timeline', '00000000-0000-4000-8000-000000000000'])).code).toBe(1);
    expect((await run(['nonsense', 'command'])).code).toBe(2);
  });
});

type Run = { code: number | null; stdout: string; stderr: string };
const runCli = (args: string[], env: Record<string, string>, file = process.execPath, pre: string[] = [CLI]) =>
  new Promise<Run>((resolve) => {
    const child = spawn(file, [...pre, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Every row of the README's exit-code table, asserted against the built CLI. */
describe('scimctl: help, output and the README exit codes', () => {
  let server: TestServer;
  let supportToken: string;
  const run = (args: string[], token = ADMIN_TOKEN) => runCli(args, { SCIMCTL_URL: server.url, SCIMCTL_TOKEN: token });
  beforeAll(async () => {
    server = await TestServer.start();
    supportToken = (await server.admin('POST', '/api/v1/tokens', { role: 'support' })).body.token;
  });
  afterAll(() => server.stop());

  it('runs as a bin: the built file starts with a shebang and executes directly', async () => {
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    chmodSync(CLI, 0o755); // what npm's bin linking does
    const direct = await runCli(['--help'], {}, CLI, []);
    expect(direct.code).toBe(0);
    expect(direct.stdout).toContain('scimctl — command line');
  });

  it('prints a group\'s help for `scimctl users` and a command\'s help for `<command> --help`', async () => {
    const group = await run(['users']);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('scimctl users lookup <any identifier>');
    expect(group.stdout).not.toContain('scimctl tokens create');
    const command = await run(['users', 'lookup', '--help']);
    expect(command.code).toBe(0);
    expect(command.stdout).toMatch(/^usage: scimctl users lookup <any identifier> \[--at T\]/);
    expect(command.stdout).not.toContain('scimctl groups create');
    const completion = await run(['completion', 'bash']);
    expect(completion.stdout).toContain('complete -F _scimctl scimctl');
  });

  it('prints tables by default and JSON with --json', async () => {
    const table = await run(['tokens', 'list']);
    expect(table.stdout).toMatch(/^ID\s+ROLE\s+NAME\s+CREATED\s+EXPIRES\s+STATE/);
    expect(() => JSON.parse(table.stdout)).toThrow();
    const json = JSON.parse((await run(['tokens', 'list', '--json'])).stdout);
    expect(json.some((t: { role: string }) => t.role === 'support')).toBe(true);
    expect((await run(['links', 'list'])).stdout.trim()).toBe('(none)');
    await server.createGroup('tbl');
    const scim = JSON.parse((await run(['scim-tokens', 'create', '--scope', 'group', '--group-path', 'tbl', '--json'])).stdout);
    const scimList = await run(['scim-tokens', 'list']);
    expect(scimList.stdout).toMatch(new RegExp(`^${scim.id}\\s+tbl\\s`, 'm'));
  });

  it('projections rebuild prints its result and exits 0, with progress on stderr (none with --quiet)', async () => {
    const rebuilt = await run(['projections', 'rebuild']);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/^\S+: \d+ events at [\d.]+ events\/s$/m);
    expect(rebuilt.stderr).toMatch(/^rebuilding all projections from the log/);
    // stderr is no terminal here: no bar redrawn in place.
    expect(rebuilt.stderr).not.toContain('\r');
    const json = await run(['projections', 'rebuild', 'audit', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ projection: 'audit' })]);
    const quiet = await run(['projections', 'rebuild', '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('0: ok', async () => {
    expect((await run(['projections', 'status'])).code).toBe(0);
    expect((await run(['--help'])).code).toBe(0);
  });

  it('1: not found — an unknown account, and a lookup nobody matches', async () => {
    const timeline = await run(['users', 'timeline', '00000000-0000-4000-8000-000000000000']);
    expect(timeline.code).toBe(1);
    const lookup = await run(['users', 'lookup', 'nobody-has-this@example.com']);
    expect(lookup.code).toBe(1);
    expect(lookup.stdout).toContain('nobody held "nobody-has-this@example.com"');
    expect((await run(['users', 'lookup', 'nobody-has-this@example.com', '--json'])).code).toBe(1);
  });

  it('2: usage — no command, unknown command, missing flag, unknown flag, and input the server refuses (400, 409)', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['users', 'frobnicate'])).code).toBe(2);
    expect((await run(['tokens', 'create'])).code).toBe(2);
    expect((await run(['tokens', 'list', '--frobnicate'])).code).toBe(2);
    const refused = await run(['tokens', 'create', '--role', 'emperor']);
    expect(refused.code).toBe(2);
    // One readable line, not a raw body.
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^scimctl: refused \(HTTP 400\): .*role/);
    await server.createGroup('dup');
    expect((await run(['groups', 'create', '--path', 'dup', '--name', 'Dup'])).code).toBe(2);
  });

  it('2: `audit export --out` refuses to overwrite an existing bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimctl-out-'));
    writeFileSync(join(dir, 'manifest.json'), '{"mine":true}');
    const r = await run(['audit', 'export', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to overwrite .*already holds a bundle/);
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe('{"mine":true}');
    rmSync(dir, { recursive: true, force: true });
  });

  it('3: server unreachable, and a server error (5xx)', async () => {
    const port = await closedPort();
    const down = await runCli(['projections', 'status'], { SCIMCTL_URL: `http://127.0.0.1:${port}`, SCIMCTL_TOKEN: ADMIN_TOKEN });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/^scimctl: cannot reach the server at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    const failing: Server = createServer((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"status":500,"error":"Internal Server Error","detail":"boom","requestId":"r-1"}'));
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const broken = await runCli(['projections', 'status'], { SCIMCTL_URL: `http://127.0.0.1:${(failing.address() as AddressInfo).port}`, SCIMCTL_TOKEN: ADMIN_TOKEN });
    await new Promise((r) => failing.close(r));
    expect(broken.code).toBe(3);
    expect(broken.stderr.trim()).toBe('scimctl: server error (HTTP 500): boom [request r-1]');
  });

  it('4: not allowed — an invalid token, a role that may not, and an export that leaves no folder behind', async () => {
    expect((await run(['tokens', 'list'], 'not-a-token')).code).toBe(4);
    expect((await run(['tokens', 'create', '--role', 'support'], supportToken)).code).toBe(4);
    const parent = mkdtempSync(join(tmpdir(), 'scimctl-out-'));
    const out = join(parent, 'bundle');
    const r = await run(['audit', 'export', '--out', out], supportToken);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^scimctl: this token's role may not do that \(HTTP 403\)/m);
    expect(existsSync(out)).toBe(false);
    // An empty directory the user made is theirs: used, and kept if the export fails.
    mkdirSync(out);
    expect((await run(['audit', 'export', '--out', out], supportToken)).code).toBe(4);
    expect(readdirSync(out)).toEqual([]);
    rmSync(parent, { recursive: true, force: true });
  });
});
