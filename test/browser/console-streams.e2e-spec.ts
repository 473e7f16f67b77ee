import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { waitFor } from '@app/testing';
import { PushReceiver } from '../events/receiver';
import { ADMIN_TOKEN, type ScimClient, TestServer, userBody } from '../support/test-server';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SHOTS = join(__dirname, '..', '..', 'docs', 'screenshots');
// Push timings come from the environment (read when used), short so that "failing" comes within the test.
const PUSH_ENV = { SET_PUSH_BASE_BACKOFF_MS: '20', SET_PUSH_MAX_BACKOFF_MS: '150', SET_PUSH_FAILING_AFTER_MS: '300', SET_PUSH_IDLE_MS: '50' };

interface Overview {
  stream_id: string;
  status: string;
  delivery_health: { failing: boolean; last_error: string | null; attempts: number; lag: number; last_delivery_at: string | null };
}

if (!CHROMIUM) {
  const reason = 'console streams browser tests skipped: no Chromium at /usr/bin/chromium (.ci/run installs Debian\'s chromium)';
  console.warn(reason);
  describe('console: SCIM event streams', () => it.skip(reason, () => undefined));
} else {
  /** The Streams tab in a real browser: an operator sees every scope's streams, spots the failing one and pauses it. */
  describe('console: SCIM event streams', () => {
    let server: TestServer;
    let browser: Browser;
    let receiver: PushReceiver;
    let auditorToken: string;
    let instance: ScimClient;
    let acme: ScimClient;
    let pollId: string;
    let pushId: string;

    const overview = async () => (await server.admin<Overview[]>('GET', '/api/v1/ssf/streams')).body;

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      Object.assign(process.env, PUSH_ENV);
      server = await TestServer.start();
      auditorToken = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor', name: 'external audit', pii: true })).body.token;
      await server.createGroup('acme');
      instance = await server.scim();
      acme = await server.scim('acme');

      // A receiver that answers every SET with 500: the push stream retries and, past the limit, is failing.
      receiver = new PushReceiver(await PushReceiver.freePort());
      receiver.answer = () => ({ status: 500 });
      await receiver.up();

      const poll = await instance.request('POST', '/ssf/stream', { aud: 'https://hr.example', description: 'HR sync (poll)', delivery: { method: 'urn:ietf:rfc:8936' } });
      expect(poll.status).toBe(201);
      pollId = poll.body.stream_id;
      const push = await acme.request('POST', '/ssf/stream', {
        aud: 'https://siem.example',
        description: 'Security SIEM (push)',
        delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url, authorization_header: 'Bearer receiver-secret' },
      });
      expect(push.status).toBe(201);
      pushId = push.body.stream_id;

      expect((await instance.request('POST', '/Users', userBody('carol@example.com'))).status).toBe(201);
      expect((await acme.request('POST', '/Users', userBody('alice@acme.test'))).status).toBe(201);
      // The poll receiver fetches and acknowledges what there is: caught up, with a last delivery.
      const fetched = await server.http('POST', poll.body.delivery.endpoint_url, { token: instance.token, body: { returnImmediately: true } });
      const jtis = Object.keys(fetched.body.sets);
      expect(jtis.length).toBeGreaterThan(0);
      await server.http('POST', poll.body.delivery.endpoint_url, { token: instance.token, body: { returnImmediately: true, ack: jtis } });

      await waitFor(async () => (await overview()).find((s) => s.stream_id === pushId)?.delivery_health.failing === true, { timeoutMs: 15_000, what: 'push stream marked failing' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }, 90_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      await receiver?.down();
      for (const k of Object.keys(PUSH_ENV)) delete process.env[k];
    });

    const signIn = async (page: Page, token: string) => {
      await page.goto(`${server.url}/console/`);
      await page.getByLabel('Support or auditor token').fill(token);
      await page.keyboard.press('Enter');
      await page.locator('#who').getByText(/Signed in as/).waitFor();
    };

    it('the admin list has every scope\'s streams with their delivery health, never a receiver\'s authorization; support may not read it', async () => {
      const list = await overview();
      const poll = list.find((s) => s.stream_id === pollId) as Overview;
      const push = list.find((s) => s.stream_id === pushId) as Overview & { scope: string };
      expect(push.scope).toMatch(/^group:/);
      expect(poll.delivery_health).toMatchObject({ failing: false, lag: 0, attempts: 0 });
      expect(poll.delivery_health.last_delivery_at).toEqual(expect.any(String));
      expect(push.delivery_health.attempts).toBeGreaterThan(0);
      expect(push.delivery_health.last_error).toBe('HTTP 500');
      expect(push.delivery_health.lag).toBeGreaterThan(0);
      expect(JSON.stringify(list)).not.toMatch(/receiver-secret|authorization/i);
      const supportToken = (await server.admin('POST', '/api/v1/tokens', { role: 'support', name: 'helpdesk' })).body.token;
      expect((await server.http('GET', '/api/v1/ssf/streams', { token: supportToken })).status).toBe(403);
    });

    it('admin: sees both streams with the right state, the failing one first and highlighted, and pauses it', async () => {
      const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
      await signIn(page, ADMIN_TOKEN);
      await page.getByRole('link', { name: 'Streams' }).click();
      await page.locator('#streams-summary').getByText(/2 streams: 2 enabled, 0 paused, 0 disabled, 1 failing/).waitFor();

      const rows = page.locator('#streams-table tbody tr');
      expect(await rows.count()).toBe(2);
      const push = page.getByRole('row', { name: 'Security SIEM (push)' });
      const poll = page.getByRole('row', { name: 'HR sync (poll)' });
      expect(await rows.first().getAttribute('data-stream')).toBe(pushId);
      expect(await push.getAttribute('class')).toContain('failing');
      await push.getByText('failing', { exact: true }).waitFor();
      await push.getByText('acme', { exact: true }).waitFor();
      await push.getByText(receiver.url).waitFor();
      await push.getByTitle('last error').getByText('HTTP 500', { exact: true }).waitFor();
      await push.getByText(/failed attempts?/).waitFor();
      await push.getByText(/positions? behind/).waitFor();
      await push.getByText('never').waitFor();
      await poll.getByText('enabled', { exact: true }).waitFor();
      await poll.getByText('caught up').waitFor();
      await poll.getByText('instance (application)').waitFor();
      expect(await poll.locator('time').count()).toBe(1);
      expect(await page.content()).not.toContain('receiver-secret');

      await push.getByRole('button', { name: 'Pause Security SIEM (push)' }).click();
      await page.locator('#streams-summary').getByText(/Security SIEM \(push\) is now paused\./).waitFor();
      await push.getByText('paused', { exact: true }).waitFor();
      await push.getByRole('button', { name: 'Enable Security SIEM (push)' }).waitFor();
      expect((await overview()).find((s) => s.stream_id === pushId)?.status).toBe('paused');
      expect(page.url()).toContain('#/streams');
      await page.screenshot({ path: join(SHOTS, 'console-streams.png'), fullPage: true });

      // "Needing attention" leaves out the stream that is fine.
      await page.getByLabel('Show').selectOption('attention');
      await page.waitForURL(/#\/streams\?show=attention$/);
      await waitFor(async () => (await rows.count()) === 1, { timeoutMs: 5_000, what: 'only the stream needing attention' });
      expect(await rows.first().getAttribute('data-stream')).toBe(pushId);
      await page.close();
    }, 90_000);

    it('auditor: sees the streams (dark mode), without the actions', async () => {
      const page = await browser.newPage({ viewport: { width: 1366, height: 800 }, colorScheme: 'dark' });
      await signIn(page, auditorToken);
      await page.goto(`${server.url}/console/#/streams`);
      await page.getByRole('row', { name: 'Security SIEM (push)' }).getByText('paused', { exact: true }).waitFor();
      await page.getByRole('row', { name: 'HR sync (poll)' }).getByText('caught up').waitFor();
      expect(await page.locator('#streams-table').getByRole('button', { name: /^(Pause|Enable|Disable)/ }).count()).toBe(0);
      await page.screenshot({ path: join(SHOTS, 'console-streams-dark.png'), fullPage: true });
      await page.close();
    }, 90_000);

    it('shows a loading line while the list is on its way, then says how to get a first stream', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await signIn(page, auditorToken);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/api/v1/ssf/streams', async (route) => {
        await held;
        await route.fulfill({ json: [] });
      });
      await page.getByRole('link', { name: 'Streams' }).click();
      await page.locator('#streams').getByRole('status').getByText('Loading…').waitFor();
      release();
      await page.locator('#streams').getByText(/No SCIM event streams yet\. A receiver registers one/).waitFor();
      await page.locator('#streams-summary').getByText('0 streams: 0 enabled, 0 paused, 0 disabled.').waitFor();
      await page.close();
    }, 90_000);
  });
}
