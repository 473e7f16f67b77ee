import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(list.stdout).toContain('cli\tdeveloper');
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
