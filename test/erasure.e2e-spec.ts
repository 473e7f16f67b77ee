import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyBundleSource } from '@app/audit';
import { directoryBundle, exportBundle } from '../apps/scimctl/src/audit-bundle';
import { ChildServer } from './support/child-server';
import { userBody } from './support/test-server';

const ADMIN = 'erasure-admin-token-0123456789abcdef';
const CLI = join(__dirname, '..', 'dist', 'apps', 'scimctl', 'src', 'main.js');
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Everything of Erin that must disappear; each is distinctive, so finding it anywhere is a leak. */
const ERIN = {
  userName: 'erin.qzxv@corp.test',
  renamed: 'erin.renamed.qzxv@corp.test',
  externalId: 'ERIN-EXT-77Q31',
  externalId2: 'ERIN-EXT-99Q24',
  givenName: 'Erinqzxv',
  familyName: 'Yzwolska',
  phone: '+41 79 555 01 23',
};

describe('erasure (crypto-shredding, GDPR Art. 17)', () => {
  let server: ChildServer;
  let dataDir: string;
  const dirs: string[] = [];

  const call = async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const scimToken = async (groupPath?: string) => {
    const r = await call('POST', '/api/v1/scim/tokens', groupPath ? { scope: 'group', groupPath } : { scope: 'application' });
    const { scim_api_url: base, scim_token: token } = r.body;
    return (method: string, path: string, body?: unknown) => call(method, `${base}${path}`.replace(server.url, ''), body, token);
  };
  const bundle = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'erasure-bundle-'));
    dirs.push(dir);
    await exportBundle(server.url, ADMIN, dir, {});
    return dir;
  };
  const filesOf = (dir: string) => readdirSync(dir).map((f) => join(dir, f));
  const leaks = (files: string[], logs: string) => {
    const found: string[] = [];
    for (const value of Object.values(ERIN)) {
      for (const f of files) if (readFileSync(f).includes(Buffer.from(value))) found.push(`${value} in ${f}`);
      if (logs.includes(value)) found.push(`${value} in the server log`);
    }
    return found;
  };
  const readModels = () => {
    const db = new Database(join(dataDir, 'scim.db'), { readonly: true });
    try {
      const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_\\_g%' ESCAPE '\\'`).all() as { name: string }[]).map((t) => t.name);
      const latest = new Map<string, string>();
      for (const t of tables) {
        const [logical, g] = t.split('__g');
        if (!latest.has(logical) || Number(latest.get(logical)!.split('__g')[1]) < Number(g)) latest.set(logical, t);
      }
      const out: Record<string, unknown[]> = {};
      for (const logical of ['scim_users', 'scim_groups', 'scim_group_members', 'accounts', 'memberships', 'identifier_spans']) {
        out[logical] = db.prepare(`SELECT * FROM "${latest.get(logical)}" ORDER BY 1, 2`).all();
      }
      return out;
    } finally {
      db.close();
    }
  };

  afterAll(async () => {
    await server?.kill('SIGTERM');
    for (const d of [...dirs, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('erases one person everywhere, keeps everyone else, and the month still verifies offline', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'erasure-'));
    server = await ChildServer.start({ ADMIN_TOKEN: ADMIN, DATA_DIR: dataDir, LOG_LEVEL: 'debug' }, { readyWithinMs: 60_000 });
    expect((await call('POST', '/api/v1/groups', { path: 'acme', name: 'Acme', verifiedDomains: ['corp.test'] })).status).toBe(201);
    const app = await scimToken();
    const acme = await scimToken('acme');

    // Erin: two scopes, a history of changes, a SCIM group, a refused request. Olga: a bystander.
    const erin = await app('POST', '/Users', userBody(ERIN.userName, { externalId: ERIN.externalId, name: { givenName: ERIN.givenName, familyName: ERIN.familyName }, phoneNumbers: [{ value: ERIN.phone, type: 'work' }] }));
    expect(erin.status).toBe(201);
    expect((await app('PATCH', `/Users/${erin.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: ERIN.renamed }] })).status).toBe(200);
    expect((await app('PATCH', `/Users/${erin.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'externalId', value: ERIN.externalId2 }] })).status).toBe(200);
    const erinAcme = await acme('POST', '/Users', userBody(`${ERIN.givenName}.acme@corp.test`, { emails: [{ value: ERIN.userName, primary: true }] }));
    expect(erinAcme.status).toBe(201);
    const olga = await app('POST', '/Users', userBody('olga.bystander@corp.test', { externalId: 'OLGA-1' }));
    const team = await app('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Team', members: [{ value: erin.body.id }, { value: olga.body.id }] });
    expect(team.status).toBe(201);
    expect((await app('POST', '/Users', userBody(ERIN.renamed))).status).toBe(409);
    const accountId = (await call('GET', `/api/v1/identities/${erin.body.id}`)).body.account.id;
    expect((await call('GET', `/api/v1/identities/${erinAcme.body.id}`)).body.account.id).toBe(accountId);
    const before = await bundle();

    // Dry run: says what would go, changes nothing.
    const head = async () => (await call('GET', '/api/v1/audit/heads', undefined)).body;
    const headsBefore = await head();
    const dry = await call('POST', '/api/v1/support/erasures', { accountId, reason: 'ticket DPO-1', dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, accountId, uniqueValues: { after: 'released' }, plaintextEvents: 0 });
    expect(dry.body.identities.map((i: { id: string }) => i.id).sort()).toEqual([erin.body.id, erinAcme.body.id].sort());
    // The same dry run as an operator types it.
    const cli = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [CLI, 'users', 'erase', accountId, '--reason', 'ticket DPO-1', '--dry-run'], { env: { ...process.env, SCIMCTL_URL: server.url, SCIMCTL_TOKEN: ADMIN } }, (_e, stdout) => resolve({ code: child.exitCode, stdout }));
    });
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringMatching(/^dry run: erasing .* 2 identities .* released\. Nothing changed\./) });
    expect(await head()).toEqual(headsBefore);
    expect((await app('GET', `/Users/${erin.body.id}`)).status).toBe(200);
    // Reason required, admin only.
    expect((await call('POST', '/api/v1/support/erasures', { accountId })).status).toBe(400);
    const support = (await call('POST', '/api/v1/tokens', { role: 'support' })).body.token;
    expect((await call('POST', '/api/v1/support/erasures', { accountId, reason: 'ticket DPO-1' }, support)).status).toBe(403);

    // Erasure while the IdP keeps writing to the same person: each write lands before it or is a 404 after it.
    const writes = Array.from({ length: 6 }, (_, i) =>
      app('PATCH', `/Users/${erin.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `T${i}` }] }),
    );
    const erased = await call('POST', '/api/v1/support/erasures', { accountId, reason: 'ticket DPO-1' });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ dryRun: false, accountId, keyDestroyed: true });
    for (const w of await Promise.all(writes)) expect([200, 404]).toContain(w.status);

    // SCIM: gone in both scopes; the group lost the member; Olga is untouched.
    expect((await app('GET', `/Users/${erin.body.id}`)).status).toBe(404);
    expect((await acme('GET', `/Users/${erinAcme.body.id}`)).status).toBe(404);
    expect((await app('PATCH', `/Users/${erin.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'late' }] })).status).toBe(404);
    expect((await app('GET', `/Groups/${team.body.id}`)).body.members.map((m: { value: string }) => m.value)).toEqual([olga.body.id]);
    expect((await app('GET', `/Users/${olga.body.id}`)).body).toMatchObject({ userName: 'olga.bystander@corp.test', externalId: 'OLGA-1' });

    // Support: the story stays, the values read [erased]; the search finds nothing by a value.
    const timeline = await call('GET', `/api/v1/support/accounts/${accountId}/timeline`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.entries.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['UserProvisioned', 'UserNameChanged', 'ExternIdChanged', 'IdentityLinked', 'AccountErased']));
    expect(timeline.text).toContain('[erased]');
    const state = await call('GET', `/api/v1/support/accounts/${accountId}/state?revision=0`);
    expect(state.body.state.identities[erin.body.id]).toMatchObject({ userName: '[erased]', externalId: '[erased]' });
    // "Who held X" and the NameID doctor still recognise her values (by their keyed hash), and show none.
    const search = await call('GET', `/api/v1/support/search?q=${encodeURIComponent(ERIN.renamed.toUpperCase())}`);
    expect(search.body.accounts).toEqual([accountId]);
    for (const m of search.body.matches) expect(m.value).toBe('[erased]');
    const doctor = await call('GET', `/api/v1/support/nameid-diagnosis?nameId=${encodeURIComponent(ERIN.externalId2)}`);
    expect(doctor.body.findings[0]).toMatchObject({ code: 'erased', accountId });

    // Audit: the erasure is recorded without personal data; Erin's records carry the ciphertext marker, even for pii readers.
    const auditor = (await call('POST', '/api/v1/tokens', { role: 'auditor', pii: true })).body.token;
    const records = await call('GET', `/api/v1/audit/events?filter=${encodeURIComponent(`target.id eq "${accountId}"`)}&until=2999-01-01T00:00:00Z`, undefined, auditor);
    expect(records.body.map((r: { type: string }) => r.type)).toContain('AccountErased');
    expect(records.text).toContain('pii:v1:');
    expect(records.body.find((r: { type: string }) => r.type === 'AccountErased')).toMatchObject({ data: { accountId, uniqueValues: 'released' }, actor: { kind: 'admin' } });

    // Both bundles verify offline; nothing of Erin in the files, the WAL, the exports or the log.
    const after = await bundle();
    expect(await verifyBundleSource(directoryBundle(before))).toMatchObject({ ok: true });
    expect(await verifyBundleSource(directoryBundle(after))).toMatchObject({ ok: true });
    expect(leaks([...filesOf(dataDir), ...filesOf(before), ...filesOf(after)], server.logs)).toEqual([]);
    // The bystander is still readable where she should be (the scan is not vacuous).
    expect(readFileSync(join(dataDir, 'scim.db')).includes(Buffer.from('olga.bystander@corp.test'))).toBe(true);

    // A rebuild after the erasure gives the read models the incremental run left.
    const incremental = readModels();
    expect((await call('POST', '/api/v1/projections/rebuild', {})).status).toBe(200);
    expect(readModels()).toEqual(incremental);

    // The values are free again: the IdP re-provisioning Erin gets a new identity (a new person).
    const again = await app('POST', '/Users', userBody(ERIN.renamed, { externalId: ERIN.externalId2 }));
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(erin.body.id);
    expect((await call('GET', `/api/v1/identities/${again.body.id}`)).body.account.id).not.toBe(accountId);
  });
});
