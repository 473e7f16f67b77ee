import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { ADMIN_TOKEN, type ScimClient, TestServer, userBody } from '../support/test-server';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

if (!CHROMIUM) {
  const reason = 'console browser tests skipped: no Chromium at /usr/bin/chromium (.ci/run installs Debian\'s chromium)';
  console.warn(reason);
  describe('support and audit console', () => it.skip(reason, () => undefined));
} else {
  /** The console in a real browser, as support staff and auditors use it. */
  describe('support and audit console', () => {
    let server: TestServer;
    let browser: Browser;
    let scim: ScimClient;
    let supportToken: string;

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      server = await TestServer.start();
      scim = await server.scim();
      supportToken = (await server.admin('POST', '/api/v1/tokens', { role: 'support' })).body.token;
      const u = (await scim.request('POST', '/Users', userBody('ada.lovelace@example.com', { externalId: 'ada-1' }), { 'user-agent': 'Okta SCIM Client 1.0.0' })).body;
      await scim.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'externalId', value: 'ada-2' }] });
      await scim.request('POST', '/Users', userBody('ADA.lovelace@example.com'));
      await server.admin('POST', '/api/v1/audit/checkpoints');
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

    it('support: search → timeline → state at a past moment → NameID diagnosis', async () => {
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      await page.goto(`${server.url}/console/`);
      await page.getByLabel('Support or auditor token').fill(supportToken);
      await page.keyboard.press('Enter');
      await page.getByLabel(/Any identifier/).fill('ada-1');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('button', { name: /^Open / }).first().click();
      const timeline = page.locator('#timeline');
      await timeline.getByText('UserProvisioned', { exact: false }).first().waitFor();
      await timeline.getByText(/externalId: "ada-1" → "ada-2"/).waitFor();
      await timeline.locator('.rejected').first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'console-timeline.png'), fullPage: true });

      const hourAgo = new Date(Date.now() - 3600_000);
      const local = new Date(hourAgo.getTime() - hourAgo.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      await page.getByLabel('Moment').fill(local);
      await page.getByRole('button', { name: /Show state/ }).click();
      await page.locator('#state').getByText('(not yet created)').waitFor();
      await page.locator('#state table.diff').getByText('account.username').waitFor();

      await page.getByRole('button', { name: 'NameID diagnosis' }).click();
      await page.getByLabel('NameID the IdP sends').fill('ADA-2');
      await page.getByRole('button', { name: 'Diagnose' }).click();
      await page.locator('#findings').getByText('case only mismatch').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'console-diagnosis.png'), fullPage: true });
      await page.close();
    }, 60_000);

    it('audit: search the log, page, export, see signed checkpoints', async () => {
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      await page.goto(`${server.url}/console/`);
      await page.getByLabel('Support or auditor token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Audit log' }).click();
      await page.getByLabel(/^Filter/).fill('type eq "ExternIdChanged"');
      await page.locator('#audit-form').getByRole('button', { name: 'Search' }).click();
      await page.locator('#audit-results').getByText('ExternIdChanged').waitFor();
      await page.locator('#checkpoints').getByText('application').waitFor();
      await page.locator('#verification').getByText(/Chain verified .* intact/).waitFor();
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Export NDJSON' }).click();
      const file = await download;
      expect(file.suggestedFilename()).toBe('audit.ndjson');
      await page.screenshot({ path: join(ARTIFACTS, 'console-audit.png'), fullPage: true });
      await page.close();
    }, 60_000);
  });
}
