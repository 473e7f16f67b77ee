import { spawn } from 'node:child_process';
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

  it('uses exit codes that mean something', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['users', 'timeline', '00000000-0000-4000-8000-000000000000'])).code).toBe(1);
    expect((await run(['nonsense', 'command'])).code).toBe(2);
  });
});
