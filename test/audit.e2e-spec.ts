import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyBundle } from '@app/audit';
import { exportBundle, readBundle } from '../apps/scimctl/src/audit-bundle';
import { ADMIN_TOKEN, type ScimClient, TestServer, userBody } from './support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('audit log', () => {
  let server: TestServer;
  let scim: ScimClient;
  let userId: string;
  let accountId: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    server = await TestServer.start();
    scim = await server.scim();
    userId = (await scim.request('POST', '/Users', userBody('audited.person@example.com', { externalId: 'aud-1' }))).body.id;
    accountId = (await server.admin('GET', `/api/v1/identities/${userId}`)).body.account.id;
    await scim.request('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'externalId', value: 'aud-2' }] });
    await scim.request('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    for (let i = 0; i < 5; i++) await scim.request('POST', '/Users', userBody(`filler${i}@example.com`));
    expect((await scim.request('POST', '/Users', userBody('FILLER0@example.com'))).status).toBe(409);
  });
  afterAll(async () => {
    await server.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const auditGet = (path: string, token = ADMIN_TOKEN) => server.http('GET', path, { token });

  it('answers by target with envelopes, diffs and rejections, in log order', async () => {
    const r = await auditGet(`/api/v1/audit/events?filter=${encodeURIComponent(`target.id eq "${accountId}"`)}&until=2999-01-01T00:00:00Z`);
    expect(r.status).toBe(200);
    expect(r.body.map((e: { type: string }) => e.type)).toEqual(['UserProvisioned', 'ExternIdChanged', 'IdentityDeactivated', 'UserBlocked']);
    expect(r.body[1]).toMatchObject({ scope: 'application', target: { type: 'account', id: accountId }, outcome: 'success', changes: expect.arrayContaining([{ path: 'externalId', from: 'aud-1', to: 'aud-2' }]) });
    expect(r.body[1].actor).toMatchObject({ kind: 'scim_token' });
    for (const e of r.body) for (const k of ['id', 'type', 'scope', 'position', 'recordedAt', 'occurredAt', 'actor', 'target', 'changes', 'outcome']) expect(e).toHaveProperty(k);
    const rejected = await auditGet(`/api/v1/audit/events?filter=${encodeURIComponent('outcome eq "rejected"')}&until=2999-01-01T00:00:00Z`);
    expect(rejected.body).toEqual([expect.objectContaining({ type: 'ProvisioningRejected', outcome: 'rejected', data: expect.objectContaining({ status: 409, scimType: 'uniqueness' }) })]);
    expect(JSON.stringify(rejected.body)).not.toContain('FILLER0');
  });

  it('pages with an opaque cursor in a Link header, and is a live feed without until', async () => {
    const first = await auditGet('/api/v1/audit/events?limit=3&filter=' + encodeURIComponent('type eq "UserProvisioned"'));
    expect(first.body).toHaveLength(3);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toBeDefined();
    const second = await auditGet(next!.replace(server.url, ''));
    expect(Number(second.body[0].position)).toBeGreaterThan(Number(first.body[2].position));
    const bounded = await auditGet(`/api/v1/audit/events?limit=1000&until=2999-01-01T00:00:00Z`);
    expect(bounded.headers.get('link')).toBeNull();
    expect((await auditGet('/api/v1/audit/events?filter=' + encodeURIComponent('nosuch eq "x"'))).status).toBe(400);
    expect((await auditGet('/api/v1/audit/events?limit=5000')).status).toBe(400);
  });

  it('masks personal data for auditors without the pii grant, and refuses them exports', async () => {
    const plain = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor' })).body.token;
    const pii = (await server.admin('POST', '/api/v1/tokens', { role: 'auditor', pii: true })).body.token;
    const q = `/api/v1/audit/events?filter=${encodeURIComponent(`target.id eq "${accountId}"`)}&until=2999-01-01T00:00:00Z`;
    const masked = await auditGet(q, plain);
    expect(masked.status).toBe(200);
    expect(JSON.stringify(masked.body)).not.toContain('audited.person@example.com');
    expect(JSON.stringify(masked.body)).not.toContain('aud-2');
    expect(masked.body[0].target.id).toBe(accountId);
    expect(JSON.stringify((await auditGet(q, pii)).body)).toContain('audited.person@example.com');
    expect((await auditGet('/api/v1/audit/export', plain)).status).toBe(403);
    const support = (await server.admin('POST', '/api/v1/tokens', { role: 'support' })).body.token;
    expect((await auditGet('/api/v1/audit/events', support)).status).toBe(403);
  });

  it('exports a bundle that verifies offline; an edited, dropped or swapped event or a forged checkpoint fails, naming the record', async () => {
    expect((await server.admin('POST', '/api/v1/audit/checkpoints')).status).toBe(201);
    await scim.request('POST', '/Users', userBody('after-checkpoint@example.com'));
    const dir = mkdtempSync(join(tmpdir(), 'audit-bundle-'));
    dirs.push(dir);
    await exportBundle(server.url, ADMIN_TOKEN, dir, {}, () => undefined);
    const good = readBundle(dir);
    expect(verifyBundle(good)).toMatchObject({ ok: true, checkpoints: expect.any(Number) });
    expect(good.checkpoints.length).toBeGreaterThan(0);
    expect(good.csv).toContain('event_id,position');

    const lines = good.eventsNdjson.trimEnd().split('\n');
    const withLines = (ls: string[], manifestToo = true) => {
      const eventsNdjson = `${ls.join('\n')}\n`;
      const sha = createHash('sha256').update(eventsNdjson).digest('hex');
      return { ...good, eventsNdjson, manifest: manifestToo ? { ...good.manifest, eventsSha256: sha } : good.manifest };
    };
    // Edited: a value inside one event (the manifest hash recomputed, as a forger would).
    const edited = [...lines];
    const target = JSON.parse(edited[2]);
    edited[2] = JSON.stringify({ ...target, type: 'SomethingElse' });
    expect(verifyBundle(withLines(edited))).toMatchObject({ ok: false, record: target.id, problem: expect.stringMatching(/edited/) });
    // The manifest hash alone already catches an edit that leaves it stale.
    expect(verifyBundle(withLines(edited, false))).toMatchObject({ ok: false, problem: expect.stringMatching(/manifest/) });
    // Dropped: one event of the application scope removed.
    const appIndexes = lines.map((l, i) => [JSON.parse(l).scope, i] as const).filter(([s]) => s === 'application').map(([, i]) => i);
    const dropped = lines.filter((_, i) => i !== appIndexes[1]);
    const afterDropped = JSON.parse(lines[appIndexes[2]]).id;
    expect(verifyBundle(withLines(dropped))).toMatchObject({ ok: false, record: afterDropped });
    // Swapped: two neighbouring events exchanged.
    const swapped = [...lines];
    [swapped[3], swapped[4]] = [swapped[4], swapped[3]];
    expect(verifyBundle(withLines(swapped))).toMatchObject({ ok: false, record: JSON.parse(swapped[3]).id });
    // Forged checkpoint: a head hash that was never signed.
    const forged = { ...good, checkpoints: good.checkpoints.map((c, i) => (i === 0 ? { ...c, count: c.count + 1 } : c)) };
    expect(verifyBundle(forged)).toMatchObject({ ok: false, problem: expect.stringMatching(/signature/) });

    // The CLI says the same, with a meaningful exit code.
    writeFileSync(join(dir, 'events.ndjson'), withLines(edited).eventsNdjson);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(withLines(edited).manifest));
    const cli = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'apps', 'scimctl', 'src', 'main.js'), 'audit', 'verify', dir], { encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain(target.id);
  });

  it('re-verifies the stored chain and checkpoints on demand', async () => {
    const v = await auditGet('/api/v1/audit/verification');
    expect(v.body).toMatchObject({ ok: true, checkpoints: expect.any(Number) });
    expect(v.body.events).toBeGreaterThan(10);
  });

  it('a rebuild of the audit projection reproduces every hash', async () => {
    const before = (await auditGet('/api/v1/audit/events?limit=1000&until=2999-01-01T00:00:00Z')).body.map((e: { hash: string }) => e.hash);
    expect((await server.admin('POST', '/api/v1/projections/rebuild', { projection: 'audit' })).status).toBe(200);
    const after = (await auditGet('/api/v1/audit/events?limit=1000&until=2999-01-01T00:00:00Z')).body.map((e: { hash: string }) => e.hash);
    expect(after.slice(0, before.length)).toEqual(before);
  });
});
