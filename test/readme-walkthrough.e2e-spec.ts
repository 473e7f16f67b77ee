import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from './support/child-server';

// The README's walk-through is what a newcomer pastes first; run the block exactly as printed.
const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const ADMIN = 'readme-walkthrough-admin-0123456789';

function walkthroughBlock(): string {
  const section = README.slice(README.indexOf('## Walk-through with curl'));
  const match = /```bash\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README has no bash block under "Walk-through with curl"');
  return match[1];
}

describe('README walk-through', () => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await ChildServer.start({ ADMIN_TOKEN: ADMIN, DATA_DIR: mkdtempSync(join(tmpdir(), 'walkthrough-')) });
  }, 60_000);
  afterAll(() => server?.kill());

  it('runs as pasted and prints what its comments say', () => {
    const run = spawnSync('bash', ['-eo', 'pipefail', '-c', walkthroughBlock()], {
      env: { ...process.env, ADMIN, S: server.url },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const id = /^Jane's SCIM id: ([0-9a-f-]{36})$/.exec(lines[1])?.[1];
    expect(id).toBeDefined();
    expect(lines).toEqual([
      'acme',
      `Jane's SCIM id: ${id}`,
      '1',
      'false',
      '204',
      '404',
      'back with the same id',
      'account jane provisioned with userName jane@acme.example, externalId 00u1',
      'identity deactivated',
      'user blocked',
      'identity deleted',
      'GET Users refused: 404 not_found',
      'identity reactivated',
      'user unblocked',
    ]);
  });

  it('stops at once with a clear message when ADMIN is not set', () => {
    const env = { ...process.env, S: server.url } as Record<string, string>;
    delete env.ADMIN;
    const run = spawnSync('bash', ['-eo', 'pipefail', '-c', walkthroughBlock()], { env, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('set ADMIN to the admin token first');
  });
});
