import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from '../support/child-server';
import { waitFor } from '@app/testing';

const ADMIN = 'graceful-admin-token-0123456789';

describe('graceful shutdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-graceful-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGTERM lets in-flight requests finish, exits cleanly, and keeps every answered write', async () => {
    const env = { DATA_DIR: dir, ADMIN_TOKEN: ADMIN, RATE_LIMIT_PER_MINUTE: '1000000' };
    const server = await ChildServer.start(env);
    const token = (
      (await (
        await fetch(`${server.url}/api/v1/scim/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"scope":"application"}' })
      ).json()) as { scim_token: string }
    ).scim_token;
    const base = `${server.url}/api/scim/v2/application`;
    let settled = 0;
    const inflight = Array.from({ length: 40 }, (_, i) =>
      fetch(`${base}/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ userName: `graceful${i}@example.com` }),
      })
        .then(
          async (r) => ({ status: r.status, body: (await r.json().catch(() => ({}))) as { id?: string } }),
          () => ({ status: 0, body: {} as { id?: string } }),
        )
        .finally(() => settled++),
    );
    // The signal comes once the server is answering them: the first answered, the rest in flight or queued.
    await waitFor(() => settled > 0, { what: 'a first answer' });
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code, signal) => resolve(signal === 'SIGTERM' ? 0 : code)));
    server.process.kill('SIGTERM');
    const results = await Promise.all(inflight);
    const code = await exited;
    expect(code).toBe(0);
    // A request the server had taken on completes (201); one still queued when the listener
    // closed is refused whole (503) or its connection reset: never half done.
    expect(results.every((r) => [0, 201, 503].includes(r.status))).toBe(true);
    const answered = results.filter((r) => r.status === 201);

    const again = await ChildServer.start(env);
    for (const r of answered) {
      const got = await fetch(`${again.url}/api/scim/v2/application/Users/${r.body.id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(got.status).toBe(200);
    }
    await again.kill('SIGTERM');
  }, 60_000);
});
