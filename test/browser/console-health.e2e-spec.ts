import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ADMIN_TOKEN, TestServer, userBody } from '../support/test-server';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SHOTS = join(__dirname, '..', '..', 'docs', 'screenshots');

if (!CHROMIUM) {
  const reason = 'console health browser tests skipped: no Chromium at /usr/bin/chromium (.ci/run installs Debian\'s chromium)';
  console.warn(reason);
  describe('console: provisioning health', () => it.skip(reason, () => undefined));
} else {
  /** The Health tab in a real browser: an operator finds the IdP stuck in a retry loop and the person it concerns. */
  describe('console: provisioning health', () => {
    let server: TestServer;
    let browser: Browser;
    let auditorToken: string;

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      server = await TestServer.start();
      auditorToken = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor', name: 'external audit', pii: true })).body.token;
      await server.createGroup('acme');
      const okta = (await server.admin('POST', '/api/v1/scim/tokens', { scope: 'group', groupPath: 'acme', name: 'Okta production' })).body as { scim_api_url: string; scim_token: string };
      const post = (userName: string) => server.http('POST', `${okta.scim_api_url}/Users`, { token: okta.scim_token, body: userBody(userName) });
      expect((await post('alice@acme.test')).status).toBe(201);
      expect((await post('bob@acme.test')).status).toBe(201);
      // The IdP keeps retrying a create the server refuses (userName taken): a retry loop.
      for (let i = 0; i < 4; i++) expect((await post('alice@acme.test')).status).toBe(409);
      // A second source that is healthy.
      const instance = await server.scim();
      await instance.request('POST', '/Users', userBody('carol@example.com'));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    const signIn = async (page: Page, token: string) => {
      await page.goto(`${server.url}/console/`);
      await page.getByLabel('Support or auditor token').fill(token);
      await page.keyboard.press('Enter');
      await page.locator('#who').getByText(/Signed in as/).waitFor();
    };

    it('admin: sees requests and refusals per source as a chart, the top reasons and the retry loop, and opens the person', async () => {
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      await signIn(page, ADMIN_TOKEN);
      await page.getByRole('link', { name: 'Health' }).click();
      await page.getByLabel('Window').selectOption('1');
      await page.locator('#health-summary').getByText(/7 SCIM requests, 4 refused/).waitFor();

      const acme = page.getByRole('region', { name: 'group acme, Okta production' });
      await acme.locator('p', { hasText: '6 requests, 4 refused (67%)' }).waitFor();
      expect(await acme.locator('svg.chart rect.refusals').count()).toBeGreaterThan(0);
      expect(await acme.locator('svg.chart rect.requests').count()).toBeGreaterThan(0);
      await acme.getByRole('cell', { name: 'uniqueness_userName' }).waitFor();
      expect(await page.getByRole('region', { name: /^instance \(application\), unnamed token/ }).getByText('No refusals.').isVisible()).toBe(true);

      const loop = page.locator('#health-loops tbody tr');
      expect(await loop.count()).toBe(1);
      await loop.getByText('POST /Users').waitFor();
      await loop.getByRole('cell', { name: '4', exact: true }).waitFor();
      await loop.getByText(/sends a userName another identity in this scope already holds\. Correct the user in the IdP/).waitFor();
      expect(page.url()).toContain('#/health?hours=1');
      await page.screenshot({ path: join(SHOTS, 'console-health.png'), fullPage: true });

      await loop.getByRole('link', { name: 'Open person' }).click();
      await page.waitForURL(/#\/person\/[0-9a-f-]{36}$/);
      await page.locator('#timeline').getByText(/alice@acme\.test/).first().waitFor();
      await page.close();
    }, 90_000);

    it('auditor: sees health too (dark mode); the loop links to the audit trail of the account', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
      await signIn(page, auditorToken);
      await page.goto(`${server.url}/console/#/health?hours=1`);
      const loop = page.locator('#health-loops tbody tr');
      await loop.getByText('POST /Users').waitFor();
      await page.screenshot({ path: join(SHOTS, 'console-health-dark.png'), fullPage: true });
      await loop.getByRole('link', { name: 'Audit trail' }).click();
      await page.locator('#audit-results').getByText(/UserProvisioned|IdentityLinked|Account/).first().waitFor();
      await page.close();
    }, 90_000);

    it('shows a loading line while the answer is on its way, then an empty state for a quiet window', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await signIn(page, auditorToken);
      // The server's answer for a window without SCIM traffic, held back until the loading line has been seen.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/api/v1/audit/health?*', async (route) => {
        await held;
        const until = new Date().toISOString();
        await route.fulfill({ json: { since: new Date(Date.now() - 3600_000).toISOString(), until, bucketSeconds: 60, loopThreshold: 3, sources: [], loops: [] } });
      });
      await page.getByRole('link', { name: 'Health' }).click();
      await page.locator('#health').getByRole('status').getByText('Loading…').waitFor();
      release();
      await page.locator('#health').getByText(/No SCIM requests in this window/).waitFor();
      await page.locator('#health-summary').getByText(/0 SCIM requests, 0 refused/).waitFor();
      await page.close();
    }, 90_000);
  });
}
