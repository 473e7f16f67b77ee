import { type SignedCheckpoint, verifyCheckpoint } from '@app/audit';
import { userBody } from '../support/test-server';
import { Cluster, type SharedStore, sharedStores } from './support/cluster';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
/** Unique per run: an EventStoreDB node keeps what earlier runs wrote. */
const RUN = Math.random().toString(36).slice(2, 8);
const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort();
const eq = (attr: string, value: string) => `filter=${encodeURIComponent(`${attr} eq "${value}"`)}`;

/**
 * Three server processes on one shared store, requests spread over them: uniqueness and
 * concurrency are decided by the store, reads on one instance see writes made through
 * another, and background work and the audit chain stay one across instances.
 */
const STORES = sharedStores('multi-instance proofs');
if (STORES.length === 0) it.skip('multi-instance proofs: no shared store reachable (see the warning above)', () => undefined);

// An empty table is an error for jest's `each`: with no store, the skipped test above stands alone.
(STORES.length ? describe.each(STORES) : describe.skip.each([['none', undefined as never]]))('three instances on one store (%s)', (_name, createStore) => {
  let store: SharedStore;
  let cluster: Cluster;
  let auth: { token: string; path: string };
  beforeAll(async () => {
    store = await createStore();
    cluster = await Cluster.start(3, store.env);
    auth = await cluster.scimToken(0);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await store?.drop();
  });

  it('50 parallel POSTs of one userName spread over the instances: exactly one 201', async () => {
    const spread = cluster.spread(auth);
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => spread.request('POST', '/Users', userBody(`race-${RUN}@example.com`, { externalId: `ext-${RUN}-${i}`, emails: [] }))));
    expect(statuses(rs)).toEqual([201, ...Array(49).fill(409)]);
    for (let i = 0; i < cluster.size; i++) {
      expect((await cluster.scim(i, auth).request('GET', `/Users?${eq('userName', `race-${RUN}@example.com`)}`)).body.totalResults).toBe(1);
    }
  }, 60_000);

  it('parallel PATCHes of one user through every instance all apply', async () => {
    const u = (await cluster.scim(0, auth).request('POST', '/Users', userBody(`patchy-${RUN}@example.com`))).body;
    const spread = cluster.spread(auth);
    const rs = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        spread.request('PATCH', `/Users/${u.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'emails', value: [{ value: `alias${i}-${RUN}@example.com`, type: 'other' }] }] }),
      ),
    );
    expect(rs.map((r) => r.status)).toEqual(Array(15).fill(200));
    for (let i = 0; i < cluster.size; i++) {
      const values = (await cluster.scim(i, auth).request('GET', `/Users/${u.id}`)).body.emails.map((e: { value: string }) => e.value);
      for (let k = 0; k < 15; k++) expect(values).toContain(`alias${k}-${RUN}@example.com`);
    }
  }, 60_000);

  it('one email POSTed by two scopes through two instances gives one account', async () => {
    const g = await cluster.admin(1, 'POST', '/api/v1/groups', { path: `multi-${RUN}`, name: 'Multi', verifiedDomains: [`multi-${RUN}.test`] });
    expect(g.status).toBe(201);
    const groupAuth = await cluster.scimToken(2, `multi-${RUN}`);
    const email = `mail@multi-${RUN}.test`;
    const [r1, r2] = await Promise.all([cluster.scim(0, auth).request('POST', '/Users', userBody(email)), cluster.scim(1, groupAuth).request('POST', '/Users', userBody(email))]);
    expect([r1.status, r2.status]).toEqual([201, 201]);
    const acc1 = (await cluster.admin(2, 'GET', `/api/v1/identities/${r1.body.id}`)).body.account.id;
    const acc2 = (await cluster.admin(0, 'GET', `/api/v1/identities/${r2.body.id}`)).body.account.id;
    expect(acc1).toBe(acc2);
  }, 60_000);

  it('group member adds from several instances at once all apply', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => cluster.scim(i % 3, auth).request('POST', '/Users', userBody(`member${i}-${RUN}@example.com`))));
    expect(users.map((u) => u.status)).toEqual(Array(12).fill(201));
    const group = (await cluster.scim(1, auth).request('POST', '/Groups', { schemas: [GROUP], displayName: `Team-${RUN}` })).body;
    const spread = cluster.spread(auth);
    const rs = await Promise.all(
      users.map((u) => spread.request('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: u.body.id }] }] })),
    );
    expect(rs.every((r) => r.status === 200 || r.status === 204)).toBe(true);
    for (let i = 0; i < cluster.size; i++) {
      const members = (await cluster.scim(i, auth).request('GET', `/Groups/${group.id}`)).body.members.map((m: { value: string }) => m.value).sort();
      expect(members).toEqual(users.map((u) => u.body.id).sort());
    }
  }, 60_000);

  it('POST on one instance, then at once GET and filter on another: found, 200 times out of 200', async () => {
    const misses: string[] = [];
    // Eight IdP connections at a time, each POSTing on one instance and reading on the next.
    const lane = async (l: number) => {
      for (let i = l; i < 200; i += 8) {
        const a = i % 3;
        const b = (i + 1) % 3;
        const userName = `ryw${i}-${RUN}@example.com`;
        const created = await cluster.scim(a, auth).request('POST', '/Users', userBody(userName));
        if (created.status !== 201) {
          misses.push(`${i}: POST ${created.status}`);
          continue;
        }
        const [byId, filtered] = await Promise.all([
          cluster.scim(b, auth).request('GET', `/Users/${created.body.id}`),
          cluster.scim(b, auth).request('GET', `/Users?${eq('userName', userName)}`),
        ]);
        if (byId.status !== 200 || filtered.body.totalResults !== 1) misses.push(`${i}: GET ${byId.status}, filter ${filtered.body.totalResults}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, l) => lane(l)));
    expect(misses).toEqual([]);
  }, 120_000);

  it('a token revoked through one instance is refused by the others as soon as the DELETE returns', async () => {
    const issued = await cluster.admin(0, 'POST', '/api/v1/scim/tokens', { scope: 'application' });
    const token = { token: issued.body.scim_token as string, path: auth.path };
    // Every instance has authenticated it (and cached the answer) before the revocation.
    for (let i = 0; i < cluster.size; i++) expect((await cluster.scim(i, token).request('GET', '/Users?count=1')).status).toBe(200);
    expect((await cluster.admin(1, 'DELETE', `/api/v1/scim/tokens/${issued.body.id}`)).status).toBe(204);
    for (let i = 0; i < cluster.size; i++) expect((await cluster.scim(i, token).request('GET', '/Users?count=1')).status).toBe(401);
  }, 60_000);

  it('one audit chain per scope whichever instance wrote, and checkpoints signed by any instance verify on every one', async () => {
    // Writes through every instance, then checkpoints requested from all of them at once.
    await Promise.all([0, 1, 2].map((i) => cluster.scim(i, auth).request('POST', '/Users', userBody(`audit${i}-${RUN}@example.com`))));
    const rounds = await Promise.all([0, 1, 2].map((i) => cluster.admin(i, 'POST', '/api/v1/audit/checkpoints')));
    expect(rounds.map((r) => r.status)).toEqual([201, 201, 201]);
    const signed = rounds.flatMap((r) => r.body as { scope: string; position: string; keyId: string }[]);
    // Each chain head is signed once, by whichever instance held the lease.
    expect(new Set(signed.map((c) => `${c.scope}|${c.position}`)).size).toBe(signed.length);

    // The signed manifest of the same range, asked of each instance: same scopes, counts, edge
    // hashes and event-file digest. The range ends at the last signed head, because every export
    // is itself recorded (and so moves the chain) after it.
    const toPosition = String(signed.reduce((max, c) => (BigInt(c.position) > max ? BigInt(c.position) : max), 0n));
    const chains: { status: number; body: { manifest: { scopes: unknown; files: Record<string, { sha256: string }> } } }[] = [];
    for (const i of [0, 1, 2]) chains.push(await cluster.admin(i, 'POST', '/api/v1/audit/exports', { toPosition }));
    for (const c of chains) expect(c.status).toBe(201);
    expect(chains[1].body.manifest.scopes).toEqual(chains[0].body.manifest.scopes);
    expect(chains[2].body.manifest.scopes).toEqual(chains[0].body.manifest.scopes);
    expect(chains[1].body.manifest.files['events.ndjson'].sha256).toBe(chains[0].body.manifest.files['events.ndjson'].sha256);
    expect(chains[2].body.manifest.files['events.ndjson'].sha256).toBe(chains[0].body.manifest.files['events.ndjson'].sha256);

    for (let i = 0; i < cluster.size; i++) {
      const keys = (await cluster.admin(i, 'GET', '/api/v1/audit/keys')).body as { keyId: string; publicKeyPem: string }[];
      const byId = Object.fromEntries(keys.map((k) => [k.keyId, k.publicKeyPem]));
      // Every instance signs with its own key (no shared key file) and each one lists them all.
      expect(keys).toHaveLength(3);
      const checkpoints = (await cluster.admin(i, 'GET', '/api/v1/audit/checkpoints')).body as SignedCheckpoint[];
      expect(checkpoints.length).toBeGreaterThanOrEqual(signed.length);
      for (const c of checkpoints) expect(verifyCheckpoint(c, byId[c.keyId])).toBe(true);
      const verdict = (await cluster.admin(i, 'GET', '/api/v1/audit/verification')).body;
      expect(verdict.ok).toBe(true);
    }
  }, 60_000);
});
