import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/testing';
import { ChildServer } from '../support/child-server';
import { ADMIN_TOKEN, userBody } from '../support/test-server';
import { PushReceiver } from './receiver';

const positionOf = (jti: unknown) => {
  const [, p, i] = String(jti).split('.');
  return BigInt(p) * 1000n + BigInt(i);
};

describe('push delivery across a kill -9 of the server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-sets-crash-'));
  let server: ChildServer | undefined;
  const receiver = new PushReceiver(0);
  afterAll(async () => {
    await server?.kill();
    await receiver.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no SET and keeps the order; a re-sent SET has the same jti', async () => {
    const env = { DATA_DIR: dir, ADMIN_TOKEN, SET_PUSH_IDLE_MS: '50', SET_PUSH_BASE_BACKOFF_MS: '20', SET_PUSH_MAX_BACKOFF_MS: '100' };
    const r = new PushReceiver(await PushReceiver.freePort());
    Object.assign(receiver, { port: r.port });
    // Slow answers, so the kill lands while SETs are in flight.
    receiver.answer = () => ({ status: 202, delayMs: 40 });
    await receiver.up();
    server = await ChildServer.start(env);
    const admin = (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) =>
      fetch(`${(server as ChildServer).url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (res) => ({ status: res.status, body: (await res.json().catch(() => undefined)) as any }));
    const token = (await admin('POST', '/api/v1/scim/tokens', { scope: 'application' })).body.scim_token as string;
    const created = await admin('POST', '/api/scim/v2/application/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url } }, token);
    expect(created.status).toBe(201);
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) ids.push((await admin('POST', '/api/scim/v2/application/Users', userBody(`crash${n}@example.com`), token)).body.id);

    await waitFor(() => receiver.received.length >= 3, { timeoutMs: 15_000, what: 'first SETs pushed' });
    await server.kill('SIGKILL');
    const before = receiver.received.length;
    expect(before).toBeLessThan(12);
    server = await ChildServer.start(env, { port: server.port });

    const distinct = () => [...new Map(receiver.received.map((x) => [String(x.claims.jti), x])).values()];
    await waitFor(() => distinct().length >= 12, { timeoutMs: 20_000, what: 'every SET after the restart' });
    const firsts = distinct();
    expect(firsts.map((x) => (x.claims.sub_id as { uri: string }).uri)).toEqual(ids.map((id) => `/Users/${id}`));
    const order = firsts.map((x) => positionOf(x.claims.jti));
    expect([...order].sort((a, b) => (a < b ? -1 : 1))).toEqual(order);
    // At most the SET in flight at the kill is sent twice.
    expect(receiver.received.length - firsts.length).toBeLessThanOrEqual(1);
  }, 60_000);
});
