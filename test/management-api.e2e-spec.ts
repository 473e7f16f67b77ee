import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../apps/scim-server/src/bootstrap';
import { loadConfig } from '@app/config';
import { CLOCK, type Clock } from '@app/identity';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ADMIN_TOKEN, TestServer } from './support/test-server';

describe('management API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterAll(() => server.stop());

  it('answers health probes', async () => {
    expect((await server.http('GET', '/health/live')).status).toBe(200);
    const ready = await server.http('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.store.kind).toBe('sqlite');
    expect(ready.body.info.projections.list.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['scim-users', 'groups', 'accounts', 'tokens']),
    );
  });

  it('refuses missing and wrong tokens with 401', async () => {
    expect((await server.http('GET', '/api/v1/groups')).status).toBe(401);
    expect((await server.http('GET', '/api/v1/groups', { token: 'nope' })).status).toBe(401);
    expect((await server.http('GET', '/api/v1/groups', { token: ADMIN_TOKEN })).status).toBe(200);
  });

  it('creates top-level groups and subgroups; paths are unique', async () => {
    const acme = await server.admin('POST', '/api/v1/groups', { path: 'acme', name: 'Acme Inc', verifiedDomains: ['acme.test'] });
    expect(acme.status).toBe(201);
    expect(acme.body).toMatchObject({ path: 'acme', fullPath: 'acme', defaultMembershipRole: 'guest', verifiedDomains: ['acme.test'] });
    const eng = await server.admin('POST', '/api/v1/groups', { path: 'eng', name: 'Engineering', parentPath: 'acme' });
    expect(eng.status).toBe(201);
    expect(eng.body).toMatchObject({ fullPath: 'acme/eng', parentId: acme.body.id });
    expect((await server.admin('GET', `/api/v1/groups/${encodeURIComponent('acme/eng')}`)).body.id).toBe(eng.body.id);
    const dup = await server.admin('POST', '/api/v1/groups', { path: 'ACME', name: 'again' });
    expect(dup.status).toBe(409);
    expect((await server.admin('POST', '/api/v1/groups', { path: 'x', name: 'x', parentPath: 'missing' })).status).toBe(404);
    expect((await server.admin('POST', '/api/v1/groups', { path: 'bad path', name: 'x' })).status).toBe(400);
    const domainTaken = await server.admin('POST', '/api/v1/groups', { path: 'other', name: 'Other', verifiedDomains: ['ACME.test'] });
    expect(domainTaken.status).toBe(409);
  });

  it('changes group settings (default role, verified domains) and lists an account\'s memberships', async () => {
    await server.createGroup('settings');
    const changed = await server.admin('PATCH', '/api/v1/groups/settings', { defaultMembershipRole: 'reporter', verifiedDomains: ['settings.test'] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ defaultMembershipRole: 'reporter', verifiedDomains: ['settings.test'] });
    const clash = await server.admin('POST', '/api/v1/groups', { path: 'clash', name: 'Clash', verifiedDomains: ['settings.test'] });
    expect(clash.status).toBe(409);
    const scim = await server.scim('settings');
    const u = (await scim.request('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'm@settings.test' })).body;
    const accountId = (await server.admin('GET', `/api/v1/identities/${u.id}`)).body.account.id;
    const memberships = await server.admin('GET', `/api/v1/accounts/${accountId}/memberships`);
    expect(memberships.body.memberships).toEqual([expect.objectContaining({ groupPath: 'settings', accessLevel: 'reporter', source: 'scim_provisioning' })]);
    expect((await server.admin('GET', '/api/v1/accounts/00000000-0000-4000-8000-000000000000/memberships')).status).toBe(404);
  });

  it('issues SCIM tokens per scope, lists them without secrets, and revokes them at once', async () => {
    await server.createGroup('tok');
    const app = await server.admin('POST', '/api/v1/scim/tokens', { scope: 'application', name: 'okta' });
    expect(app.status).toBe(201);
    expect(app.body.scim_api_url).toBe(`${server.url}/api/scim/v2/application`);
    expect(app.body.scim_token).toMatch(/^scimtok_[A-Za-z0-9_-]{43}$/);
    const grp = await server.admin('POST', '/api/v1/scim/tokens', { scope: 'group', groupPath: 'tok' });
    expect(grp.body.scim_api_url).toBe(`${server.url}/api/scim/v2/groups/tok`);

    const list = await server.admin('GET', '/api/v1/scim/tokens');
    expect(list.text).not.toContain(app.body.scim_token);
    expect(list.body.find((t: { id: string }) => t.id === app.body.id)).toMatchObject({ name: 'okta', scope: 'application', active: true });

    const spc = '/api/scim/v2/application/ServiceProviderConfig';
    expect((await server.http('GET', spc, { token: app.body.scim_token })).status).toBe(200);
    expect((await server.admin('DELETE', `/api/v1/scim/tokens/${app.body.id}`)).status).toBe(204);
    expect((await server.http('GET', spc, { token: app.body.scim_token })).status).toBe(401);
  });

  it('issues group SCIM tokens for top-level groups only, and writes nothing when it refuses', async () => {
    await server.createGroup('tok2');
    await server.admin('POST', '/api/v1/groups', { path: 'sub', name: 'Sub', parentPath: 'tok2' });
    const before = (await server.admin('GET', '/api/v1/scim/tokens')).body.length;
    const refused = [
      [{ scope: 'group' }, 400, 'groupPath is required for a group scope token'],
      [{ scope: 'group', groupPath: 'nope' }, 404, undefined],
      [{ scope: 'group', groupPath: 'tok2/sub' }, 400, 'SCIM tokens belong to top-level groups; use the top-level group path'],
    ] as const;
    for (const [body, status, detail] of refused) {
      const r = await server.admin('POST', '/api/v1/scim/tokens', body);
      expect(r.status).toBe(status);
      if (detail) expect(r.body.detail).toBe(detail);
    }
    expect((await server.admin('GET', '/api/v1/scim/tokens')).body.length).toBe(before);
  });

  it('a token with expiresAt stops working at that time', async () => {
    expect((await server.admin('POST', '/api/v1/scim/tokens', { scope: 'application', expiresAt: '2000-01-01T00:00:00Z' })).status).toBe(400);
    const expiresAt = new Date(Date.now() + 3_600_000);
    const t = await server.admin('POST', '/api/v1/scim/tokens', { scope: 'application', expiresAt: expiresAt.toISOString() });
    const spc = '/api/scim/v2/application/ServiceProviderConfig';
    expect((await server.http('GET', spc, { token: t.body.scim_token })).status).toBe(200);
    // The server's clock (its CLOCK provider) is moved, instead of waiting for the hour to pass.
    const clock = jest.spyOn(server.app.get<Clock>(CLOCK), 'now');
    try {
      clock.mockReturnValue(new Date(expiresAt.getTime() - 1));
      expect((await server.http('GET', spc, { token: t.body.scim_token })).status).toBe(200);
      clock.mockReturnValue(expiresAt);
      expect((await server.http('GET', spc, { token: t.body.scim_token })).status).toBe(401);
    } finally {
      clock.mockRestore();
    }
  });

  it('enforces management roles', async () => {
    const support = await server.admin('POST', '/api/v1/tokens', { role: 'support' });
    expect(support.status).toBe(201);
    expect(support.body.token).toMatch(/^scimadm_/);
    const auditor = await server.admin('POST', '/api/v1/tokens', { role: 'auditor' });
    const as = (token: string, method: string, path: string, body?: unknown) =>
      server.http(method, path, { token, body, headers: { 'content-type': 'application/json' } });
    expect((await as(support.body.token, 'POST', '/api/v1/scim/tokens', { scope: 'application' })).status).toBe(403);
    expect((await as(support.body.token, 'POST', '/api/v1/tokens', { role: 'admin' })).status).toBe(403);
    expect((await as(auditor.body.token, 'POST', '/api/v1/groups', { path: 'nope', name: 'x' })).status).toBe(403);
    expect((await as(auditor.body.token, 'GET', '/api/v1/groups')).status).toBe(200);
    expect((await server.admin('POST', '/api/v1/tokens', { role: 'root' })).status).toBe(400);
  });

  it('stores SCIM and management secrets only as hashes', async () => {
    const t = await server.admin('POST', '/api/v1/scim/tokens', { scope: 'application' });
    const m = await server.admin('POST', '/api/v1/tokens', { role: 'support' });
    const db = readFileSync(join(server.dataDir, 'scim.db'));
    const wal = (() => {
      try {
        return readFileSync(join(server.dataDir, 'scim.db-wal'));
      } catch {
        return Buffer.alloc(0);
      }
    })();
    for (const secret of [t.body.scim_token, m.body.token, ADMIN_TOKEN]) {
      expect(db.includes(Buffer.from(secret))).toBe(false);
      expect(wal.includes(Buffer.from(secret))).toBe(false);
    }
  });
});

describe('first start without ADMIN_TOKEN', () => {
  it('generates an admin token once, stores only its hash, and does not generate another on restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-bootstrap-'));
    const config = loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'error' });
    const first = await startServer(config);
    expect(first.generatedAdminToken).toMatch(/^scimadm_/);
    const res = await fetch(`${first.url}/api/v1/groups`, { headers: { authorization: `Bearer ${first.generatedAdminToken}` } });
    expect(res.status).toBe(200);
    await first.app.close();
    const files = ['scim.db', 'scim.db-wal'].map((f) => {
      try {
        return readFileSync(join(dir, f));
      } catch {
        return Buffer.alloc(0);
      }
    });
    for (const f of files) expect(f.includes(Buffer.from(first.generatedAdminToken as string))).toBe(false);
    const second = await startServer(config);
    expect(second.generatedAdminToken).toBeUndefined();
    const again = await fetch(`${second.url}/api/v1/groups`, { headers: { authorization: `Bearer ${first.generatedAdminToken}` } });
    expect(again.status).toBe(200);
    await second.app.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
