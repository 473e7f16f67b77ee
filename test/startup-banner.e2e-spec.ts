import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import { startServer } from '../apps/scim-server/src/bootstrap';

const MAIN = join(__dirname, '..', 'dist', 'apps', 'scim-server', 'src', 'main.js');

describe('start-up: the admin token banner', () => {
  it('is not stored when the port is busy, so the next start generates and shows one; later starts say how to recover', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-banner-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      await expect(startServer(loadConfig({ DATA_DIR: dir, HOST: '127.0.0.1', PORT: String(busy), LOG_LEVEL: 'silent' }))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    const config = loadConfig({ DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' });
    const first = await startServer(config);
    expect(first.generatedAdminToken).toMatch(/^scimadm_/);
    expect(first.adminTokenStoredEarlier).toBe(false);
    await first.app.close();
    const second = await startServer(config);
    expect(second.generatedAdminToken).toBeUndefined();
    expect(second.adminTokenStoredEarlier).toBe(true);
    await second.app.close();
    const configured = await startServer(loadConfig({ DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ADMIN_TOKEN: 'configured-admin-token-0123' }));
    expect(configured.adminTokenStoredEarlier).toBe(false);
    await configured.app.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('comes after the start-up log, which no longer lists every route at info level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-banner-'));
    const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' };
    delete env.ADMIN_TOKEN;
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^ {4}scimadm_\S+$/m.test(out)) resolve();
      });
      child.once('exit', () => reject(new Error(`server exited: ${out}`)));
    });
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    const lines = out.split('\n');
    const banner = lines.findIndex((l) => l.startsWith('SCIM server listening on'));
    const token = lines.findIndex((l) => /^ {4}scimadm_/.test(l));
    expect(banner).toBeGreaterThan(-1);
    expect(token).toBeGreaterThan(banner);
    expect(out).not.toContain('Mapped {');
    const started = lines.findIndex((l) => l.includes('Nest application successfully started'));
    const fastifyListening = lines.findIndex((l) => l.includes('"msg":"Server listening at'));
    expect(started).toBeGreaterThan(-1);
    expect(started).toBeLessThan(banner);
    expect(fastifyListening).toBeLessThan(banner);
  }, 60_000);
});
