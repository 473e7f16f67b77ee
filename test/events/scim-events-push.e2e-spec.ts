import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/testing';
import { type ScimClient, TestServer, userBody } from '../support/test-server';
import { PushReceiver, shortUris, verifySet } from './receiver';

/** Log position of a SET from its jti (`<stream>.<position>.<index>`), to check order. */
const positionOf = (jti: unknown) => {
  const [, p, i] = String(jti).split('.');
  return BigInt(p) * 1000n + BigInt(i);
};

describe('SCIM events by push (RFC 8935)', () => {
  let server: TestServer;
  let scim: ScimClient;

  beforeAll(async () => {
    // Delivery timings are read from the environment (as the audit checkpoint interval is).
    Object.assign(process.env, { SET_PUSH_BASE_BACKOFF_MS: '20', SET_PUSH_MAX_BACKOFF_MS: '150', SET_PUSH_FAILING_AFTER_MS: '300', SET_PUSH_IDLE_MS: '50' });
    server = await TestServer.start();
    scim = await server.scim();
  });
  afterAll(async () => {
    await server.stop();
    for (const k of ['SET_PUSH_BASE_BACKOFF_MS', 'SET_PUSH_MAX_BACKOFF_MS', 'SET_PUSH_FAILING_AFTER_MS', 'SET_PUSH_IDLE_MS']) delete process.env[k];
  });

  it('a receiver down, then 500, then 429, then accepting gets every SET once, in order, and the stream recovers', async () => {
    const receiver = new PushReceiver(await PushReceiver.freePort());
    const stream = (
      await scim.request('POST', '/ssf/stream', {
        aud: 'https://push.example',
        delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url, authorization_header: 'Bearer receiver-secret' },
      })
    ).body;
    expect(stream.delivery.authorization_header).toBe('(set)');
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) ids.push((await scim.request('POST', '/Users', userBody(`push${n}@example.com`))).body.id);

    // Down long enough to be marked failing.
    const status = () => scim.request('GET', `/ssf/status?stream_id=${stream.stream_id}`).then((r) => r.body);
    await waitFor(async () => (await status()).delivery_health.failing === true, { timeoutMs: 10_000, what: 'stream marked failing' });
    expect((await status()).delivery_health.last_error).toBeTruthy();

    let calls = 0;
    receiver.answer = () => {
      calls++;
      if (calls <= 2) return { status: 500 };
      if (calls <= 4) return { status: 429 };
      return { status: 202 };
    };
    await receiver.up();
    try {
      await waitFor(() => receiver.received.length >= 4, { timeoutMs: 15_000, what: 'all SETs pushed' });
      const subjects = receiver.received.map((r) => (r.claims.sub_id as { uri: string }).uri);
      expect(subjects).toEqual(ids.map((id) => `/Users/${id}`));
      const order = receiver.received.map((r) => positionOf(r.claims.jti));
      expect([...order].sort((a, b) => (a < b ? -1 : 1))).toEqual(order);
      expect(receiver.received.every((r) => r.authorization === 'Bearer receiver-secret')).toBe(true);
      for (const r of receiver.received) {
        const c = await verifySet(r.token, `${server.url}/api/ssf/jwks.json`, { issuer: scim.base, audience: 'https://push.example' });
        expect(shortUris(c)).toEqual(['prov:create:notice']);
      }
      await waitFor(async () => (await status()).delivery_health.failing === false, { timeoutMs: 5_000, what: 'stream recovered' });
      // The failure and the recovery are in the audit log.
      const audit = await server.admin('GET', `/api/v1/audit/events?count=200`);
      const types = JSON.stringify(audit.body);
      expect(types).toContain('SetStreamFailing');
      expect(types).toContain('SetStreamRecovered');
      expect(types).not.toContain('receiver-secret');
    } finally {
      await receiver.down();
    }
  });

  it('a 400 rejection is recorded and not retried; the next SETs still go', async () => {
    const receiver = new PushReceiver(await PushReceiver.freePort());
    await receiver.up();
    try {
      const seen: string[] = [];
      receiver.answer = (claims) => {
        seen.push(String(claims.jti));
        return seen.length === 1 ? { status: 400, body: { err: 'invalid_audience', description: 'not for us' } } : { status: 202 };
      };
      const stream = (await scim.request('POST', '/ssf/stream', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url } })).body;
      expect(stream.stream_id).toBeDefined();
      await scim.request('POST', '/Users', userBody('reject1@example.com'));
      await scim.request('POST', '/Users', userBody('reject2@example.com'));
      await waitFor(() => receiver.received.length >= 1, { timeoutMs: 10_000, what: 'second SET pushed' });
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toHaveLength(2);
      const audit = await server.admin('GET', `/api/v1/audit/events?count=200`);
      expect(JSON.stringify(audit.body)).toContain('invalid_audience');
    } finally {
      await receiver.down();
    }
  });
});
