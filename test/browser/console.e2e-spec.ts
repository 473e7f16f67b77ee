import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type ScimClient, TestServer, userBody } from '../support/test-server';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SHOTS = join(__dirname, '..', '..', 'docs', 'screenshots');
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A minimal SAML 2.0 response, as a browser's SAML tracer shows it (unsigned: the console only reads the NameID). */
const samlResponse = (nameId: string) =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">` +
  `<saml:Issuer>https://idp.example.com</saml:Issuer><saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com</saml:Issuer>` +
  `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${nameId}</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>`;

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
    let auditorToken: string;

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      server = await TestServer.start();
      scim = await server.scim();
      supportToken = (await server.admin('POST', '/api/v1/tokens', { role: 'support', name: 'helpdesk' })).body.token;
      auditorToken = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor', name: 'external audit', pii: true })).body.token;
      await server.createGroup('cons', { defaultMembershipRole: 'developer' });
      const group = await server.scim('cons');
      await group.request('POST', '/Users', userBody('ada.lovelace@example.com', { externalId: 'ada-g' }));
      // Enough records for more than one page of 50.
      for (let i = 0; i < 60; i++) await scim.request('POST', '/Users', userBody(`filler${i}@example.com`));
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

    const signIn = async (page: Page, token: string) => {
      // Without the slash: the server redirects, so the page's CSS and JS load.
      await page.goto(`${server.url}/console`);
      expect(new URL(page.url()).pathname).toBe('/console/');
      await expect(page.locator('#tabs').isVisible()).resolves.toBe(false);
      await page.getByLabel('Support or auditor token').fill(token);
      await page.keyboard.press('Enter');
      await page.locator('#who').getByText(/Signed in as/).waitFor();
      // The secret never lands in the URL.
      expect(page.url()).not.toContain(token);
      expect(new URL(page.url()).search).toBe('');
    };

    it('support: find a person by an old NameID, read the story, see the state at an event, dry-run a fix', async () => {
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      await signIn(page, supportToken);
      await page.locator('#who').getByText('(support)').waitFor();
      expect(await page.getByRole('link', { name: 'Audit log' }).isVisible()).toBe(false);
      expect(await page.locator('#error').isVisible()).toBe(false);

      await page.getByLabel(/Any identifier/).fill('ada-1');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: /^Open account / }).first().click();
      const timeline = page.locator('#timeline');
      await timeline.getByText(/externalId: "ada-1" → "ada-2"/).waitFor();
      await timeline.locator('.rejected').first().waitFor();
      // Names, not ids: the membership names the group and the access level.
      await timeline.getByText(/membership in cons.*: none → Developer/).first().waitFor();

      // The instance identity was linked to the account the group's provisioning had created.
      await timeline.locator('details', { hasText: 'IdentityLinked' }).getByRole('button', { name: 'State at this event' }).click();
      await page.locator('#state').getByText('ada-1 / ada-1').waitFor();
      await page.locator('#state table.diff').getByText(/in instance \(application\): externalId/).first().waitFor();
      expect(page.url()).toMatch(/#\/person\/[0-9a-f-]{36}\/event\/\d+\?at=/);
      // A deep link survives a reload.
      await page.reload();
      await page.locator('#state').getByText('ada-1 / ada-1').waitFor();
      await page.screenshot({ path: join(SHOTS, 'support-story-and-state.png'), fullPage: true });

      await page.getByLabel('Action').selectOption('change-external-id');
      await page.locator('#r-identity').selectOption({ label: 'ada.lovelace@example.com in instance (application)' });
      await page.getByLabel('externalId', { exact: true }).fill('ada-3');
      await page.getByLabel(/^Reason/).fill('ticket 42: the IdP re-keyed Ada');
      await page.getByRole('button', { name: 'Preview (dry run)' }).click();
      const plan = page.locator('#remediation');
      await plan.getByText('Dry run').waitFor();
      await plan.getByText(/ExternIdChanged: externalId: "ada-2" → "ada-3"/).waitFor();
      expect(await plan.getByRole('button', { name: /^Apply/ }).isDisabled()).toBe(true);
      await page.locator('#remediation').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'support-remediation-dry-run.png'), fullPage: true });

      await page.getByRole('link', { name: 'NameID doctor' }).click();
      await page.getByText(/paste a SAML response/).click();
      await page.getByLabel('SAML response').fill(Buffer.from(samlResponse('ADA-2')).toString('base64'));
      await page.getByRole('button', { name: 'Read NameID and diagnose' }).click();
      await page.locator('#saml-found').getByText('ADA-2').waitFor();
      await page.locator('#findings').getByText('case only mismatch').waitFor();
      await page.screenshot({ path: join(SHOTS, 'support-nameid-doctor.png'), fullPage: true });
      await page.close();
    }, 90_000);

    it('auditor: query, page, export the filtered result; dark mode', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      await signIn(page, auditorToken);
      await page.locator('#who').getByText('(auditor').waitFor();
      expect(await page.getByRole('link', { name: 'Person' }).isVisible()).toBe(false);
      // Lands on the audit log: newest first, a page at a time, with a count.
      await page.locator('#audit-form').getByRole('button', { name: 'Search' }).click();
      await page.locator('#audit-summary').getByText(/Showing 1–50 \(more on the next page\), newest first/).waitFor();
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.locator('#audit-summary').getByText(/Showing 51–/).waitFor();
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(1280);

      await page.getByLabel(/^Filter/).fill('type eq "ExternIdChanged"');
      await page.locator('#audit-form').getByRole('button', { name: 'Search' }).click();
      await page.locator('#audit-results').getByText('ExternIdChanged').first().waitFor();
      await page.locator('#audit-summary').getByText(/Showing 1–1 of 1/).waitFor();
      expect(decodeURIComponent(page.url().replace(/\+/g, ' '))).toContain('#/audit?filter=type eq "ExternIdChanged"');
      await page.locator('#verification').getByText(/Chain verified .* intact/).waitFor();
      await page.screenshot({ path: join(SHOTS, 'auditor-query.png'), fullPage: true });

      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Export NDJSON' }).click();
      const file = await download;
      expect(file.suggestedFilename()).toBe('audit.ndjson');
      const lines = readFileSync(await file.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.type)).toEqual(['ExternIdChanged']);

      // A bad filter: one error at the top, no stale table below it.
      await page.getByLabel(/^Filter/).fill('type eq');
      await page.locator('#audit-form').getByRole('button', { name: 'Search' }).click();
      await page.locator('#error').getByText(/filter/i).waitFor();
      expect(await page.locator('#audit-results table').count()).toBe(0);

      await page.emulateMedia({ colorScheme: 'dark' });
      await page.getByLabel(/^Filter/).fill('');
      await page.locator('#audit-form').getByRole('button', { name: 'Search' }).click();
      await page.locator('#audit-summary').getByText(/Showing 1–50/).waitFor();
      await page.screenshot({ path: join(SHOTS, 'auditor-dark-mode.png') });
      await page.close();
    }, 90_000);
  });
}
