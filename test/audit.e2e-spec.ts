import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonical, verifyBundleSource } from '@app/audit';
import { directoryBundle, exportBundle } from '../apps/scimctl/src/audit-bundle';
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
    for (const repeated of ['events?sortOrder=ascending&sortOrder=descending', 'events?q=a&q=b', 'export?format=csv&format=ndjson', 'export?since=2020-01-01T00:00:00Z&since=x']) {
      const r = await auditGet(`/api/v1/audit/${repeated}`);
      expect({ repeated, status: r.status }).toEqual({ repeated, status: 400 });
    }
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

  it('exports a signed bundle that verifies offline; every record is covered by a signature, the fresh export checkpoint included', async () => {
    expect((await server.admin('POST', '/api/v1/audit/checkpoints')).status).toBe(201);
    await scim.request('POST', '/Users', userBody('after-checkpoint@example.com'));
    const dir = mkdtempSync(join(tmpdir(), 'audit-bundle-'));
    dirs.push(dir);
    const manifest = await exportBundle(server.url, ADMIN_TOKEN, dir, {});
    const keys = (await auditGet('/api/v1/audit/keys')).body;
    expect(keys).toEqual([{ keyId: manifest.keyId, algorithm: 'Ed25519', fingerprint: manifest.keyFingerprint, publicKeyPem: expect.stringContaining('PUBLIC KEY') }]);
    const good = await verifyBundleSource(directoryBundle(dir), { pinned: [keys[0].fingerprint] });
    expect(good).toMatchObject({ ok: true, trust: 'pinned', events: manifest.events });
    for (const s of good.perScope) expect(s).toMatchObject({ unsignedTail: 0, signed: s.events });
    expect(good.signatures.reduce((n, c) => n + c.covers, 0)).toBe(manifest.events);
    // The export signed a checkpoint at the record written after the last periodic one.
    const newest = readFileSync(join(dir, 'events.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).filter((r) => r.scope === 'application').pop();
    expect(good.signatures).toContainEqual(expect.objectContaining({ scope: 'application', position: newest.position }));
    expect(readFileSync(join(dir, 'events.csv'), 'utf8')).toContain('event_id,position');
    // The export and its checkpoints are recorded, after the range they cover.
    const exported = await auditGet(`/api/v1/audit/events?filter=${encodeURIComponent('type eq "AuditExported"')}&until=2999-01-01T00:00:00Z`);
    expect(exported.body.some((e: { data: { format: string } }) => e.data.format === 'bundle')).toBe(true);

    // An attacker edits an event and recomputes what is unsigned (its hash, the chain after it, the file digests).
    const lines = readFileSync(join(dir, 'events.ndjson'), 'utf8').trimEnd().split('\n');
    const target = JSON.parse(lines[2]);
    lines[2] = canonical({ ...target, type: 'SomethingElse' });
    writeFileSync(join(dir, 'events.ndjson'), `${lines.join('\n')}\n`);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.files['events.ndjson'] = { sha256: createHash('sha256').update(`${lines.join('\n')}\n`).digest('hex'), bytes: Buffer.byteLength(`${lines.join('\n')}\n`) };
    writeFileSync(join(dir, 'manifest.json'), `${canonical(m)}\n`);
    const bad = await verifyBundleSource(directoryBundle(dir));
    expect(bad).toMatchObject({ ok: false, problem: expect.stringMatching(/manifest.json: the signature does not match/) });
    expect(bad.problems).toContainEqual({ problem: expect.stringMatching(/does not match its hash \(edited\)/), record: target.id });
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
