import type Database from 'better-sqlite3';
import { SQLITE_DB } from '../apps/scim-server/src/infrastructure/tokens';
import { type ScimClient, TestServer, userBody } from './support/test-server';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/**
 * Adding or removing one member costs the same in a small and a large group: counted in
 * events appended and rows written (SQLite's total_changes), not in time.
 */
describe('SCIM group membership cost does not grow with the group', () => {
  let server: TestServer;
  let scim: ScimClient;
  let db: Database.Database;
  const BIG = 2000;

  beforeAll(async () => {
    server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '100000000', MAX_PAYLOAD_BYTES: '10485760' });
    scim = await server.scim();
    db = server.app.get(SQLITE_DB);
    await server.admin('POST', '/api/v1/groups', { path: 'linked', name: 'Linked' });
    await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'small', groupPath: 'linked', accessLevel: 'developer' });
    await server.admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'big', groupPath: 'linked', accessLevel: 'developer' });
  }, 60_000);
  afterAll(() => server.stop());

  async function users(prefix: string, n: number): Promise<string[]> {
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: n }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `${prefix}${i}`, data: userBody(`${prefix}${i}@scale.test`, { emails: [] }) })),
    };
    const ids: string[] = [];
    for (let i = 0; i < n; i += 500) {
      const r = await scim.request('POST', '/Bulk', { ...body, Operations: body.Operations.slice(i, i + 500) });
      ids.push(...r.body.Operations.map((o: { location: string }) => o.location.split('/').pop()));
    }
    return ids;
  }

  async function group(name: string, members: string[]): Promise<string> {
    const id = (await scim.request('POST', '/Groups', { schemas: [GROUP], displayName: name })).body.id;
    for (let i = 0; i < members.length; i += 1000) {
      await scim.request('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members.slice(i, i + 1000).map((value) => ({ value })) }] });
    }
    return id;
  }

  const events = () => (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  const changes = () => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;

  async function cost(groupId: string, userId: string, op: 'add' | 'remove') {
    await server.http('GET', '/health/ready');
    const e0 = events();
    const c0 = changes();
    const body =
      op === 'add'
        ? { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }] }
        : { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }] };
    expect((await scim.request('PATCH', `/Groups/${groupId}`, body)).status).toBe(204);
    // Wait for the projections so their rows are counted too.
    await scim.request('GET', `/Groups/${groupId}?excludedAttributes=members`);
    return { events: events() - e0, rows: changes() - c0 };
  }

  it(`adding and removing one member touches as much in a ${BIG}-member group as in a 10-member group`, async () => {
    const small = await group('small', await users('s', 10));
    const big = await group('big', await users('b', BIG));
    const [x, y] = await users('new', 2);
    const addSmall = await cost(small, x, 'add');
    const addBig = await cost(big, y, 'add');
    expect(addSmall.events).toBeGreaterThan(0);
    expect(addBig).toEqual(addSmall);
    const removeSmall = await cost(small, x, 'remove');
    const removeBig = await cost(big, y, 'remove');
    expect(removeBig).toEqual(removeSmall);
  }, 120_000);
});
