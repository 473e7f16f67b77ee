import fc from 'fast-check';
import { waitFor } from '@app/testing';
import { type HttpResult, type ScimClient, TestServer, userBody } from './support/test-server';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

/** RFC 9865 cursor paging on Users and Groups, over real HTTP. */
describe('SCIM cursor paging (RFC 9865)', () => {
  let server: TestServer;
  let scim: ScimClient;

  beforeAll(async () => {
    server = await TestServer.start({ RATE_LIMIT_PER_MINUTE: '100000000', MAX_PAYLOAD_BYTES: '10485760' });
    scim = await server.scim();
  }, 60_000);
  afterAll(() => server.stop());

  /** Creates users through /Bulk (fast), returns their ids in creation order. */
  async function seed(client: ScimClient, prefix: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1000) {
      const ops = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `${prefix}${i + j}`,
        data: userBody(`${prefix}${String(i + j).padStart(6, '0')}@cursor.test`, { emails: [] }),
      }));
      const r = await client.request('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops });
      expect(r.status).toBe(200);
      ids.push(...r.body.Operations.map((o: { status: string; location: string }) => {
        expect(o.status).toBe('201');
        return o.location.split('/').pop() as string;
      }));
    }
    return ids;
  }

  /** Every page of a cursor walk (GET), with `between` run concurrently with each page request. */
  async function walk(client: ScimClient, path: string, query: string, between: (page: number) => Promise<unknown> = async () => undefined) {
    const pages: HttpResult[] = [];
    let cursor = '';
    for (let page = 0; ; page++) {
      const [r] = await Promise.all([client.request('GET', `${path}?${query}${query ? '&' : ''}cursor=${cursor}`), between(page)]);
      expect(r.status).toBe(200);
      pages.push(r);
      if (r.body.nextCursor === undefined) break;
      cursor = r.body.nextCursor;
      if (page > 10_000) throw new Error('the walk does not end');
    }
    return { pages, ids: pages.flatMap((p) => p.body.Resources.map((x: { id: string }) => x.id)) };
  }

  it('advertises cursor and index paging in ServiceProviderConfig, and describes it in /Schemas', async () => {
    const spc = (await scim.request('GET', '/ServiceProviderConfig')).body;
    expect(spc.pagination).toEqual({ cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: 100, maxPageSize: 1000, cursorTimeout: 3600 });
    const schema = (await scim.request('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig')).body;
    const pagination = schema.attributes.find((a: { name: string }) => a.name === 'pagination');
    expect(pagination.subAttributes.map((a: { name: string }) => a.name)).toEqual(['cursor', 'index', 'defaultPaginationMethod', 'defaultPageSize', 'maxPageSize', 'cursorTimeout']);
  });

  it('walks every user once: nextCursor on every page but the last, no startIndex, GET and .search alike', async () => {
    await server.createGroup('walk');
    const client = await server.scim('walk');
    const ids = await seed(client, 'w', 95);
    const { pages, ids: seen } = await walk(client, '/Users', 'count=10');
    expect(seen).toEqual(ids);
    expect(pages).toHaveLength(10);
    for (const [i, p] of pages.entries()) {
      expect(p.body.startIndex).toBeUndefined();
      expect(p.body).toMatchObject({ totalResults: 95, itemsPerPage: i < 9 ? 10 : 5 });
      expect(p.body.nextCursor === undefined).toBe(i === 9);
      if (p.body.nextCursor) expect(p.body.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    // A walk that ends exactly on a page boundary has no empty last page.
    const exact = await walk(client, '/Users', 'count=19');
    expect(exact.pages).toHaveLength(5);
    expect(exact.ids).toEqual(ids);
    // Index paging is unchanged and stays the default.
    const index = (await client.request('GET', '/Users?count=10')).body;
    expect(index).toMatchObject({ startIndex: 1, itemsPerPage: 10 });
    expect(index.nextCursor).toBeUndefined();

    // POST .search: the same walk, cursor in the body; a cursor from GET continues it.
    const search = (cursor: string) => client.request('POST', '/Users/.search', { schemas: [SEARCH], count: 30, cursor, sortBy: 'userName', sortOrder: 'descending' });
    const first = await search('');
    expect(first.status).toBe(200);
    expect(first.body.Resources.map((u: { userName: string }) => u.userName)[0]).toBe('w000094@cursor.test');
    const all = [...first.body.Resources];
    for (let c = first.body.nextCursor; c; ) {
      const next = await search(c);
      all.push(...next.body.Resources);
      c = next.body.nextCursor;
    }
    expect(all.map((u: { id: string }) => u.id)).toEqual([...ids].reverse());
    const viaGet = await client.request('GET', `/Users?count=30&sortBy=userName&sortOrder=descending&cursor=${first.body.nextCursor}`);
    expect(viaGet.body.Resources[0].id).toBe(ids[64]);
  }, 30_000);

  it('walks filtered and sorted lists (indexed, JSON-attribute and NULL sort keys) in the order index paging gives', async () => {
    await server.createGroup('orders');
    const client = await server.scim('orders');
    for (let i = 0; i < 23; i++) {
      const extra = { ...(i % 3 ? { externalId: `ext-${(i * 7) % 23}` } : {}), name: { givenName: 'G', ...(i % 4 ? { familyName: `F${i % 6}` } : {}) }, active: i % 2 === 0 };
      expect((await client.request('POST', '/Users', userBody(`o${String(i).padStart(2, '0')}@orders.test`, extra))).status).toBe(201);
    }
    const queries = [
      'filter=active%20eq%20true',
      `filter=${encodeURIComponent('userName sw "o1"')}`,
      'sortBy=externalId',
      'sortBy=externalId&sortOrder=descending',
      'sortBy=name.familyName',
      'sortBy=name.familyName&sortOrder=descending',
      'sortBy=meta.created&sortOrder=descending',
      `sortBy=userName&filter=${encodeURIComponent('active eq false')}`,
    ];
    for (const query of queries) {
      const index = (await client.request('GET', `/Users?count=100&${query}`)).body.Resources.map((u: { id: string }) => u.id);
      const { ids } = await walk(client, '/Users', `count=4&${query}`);
      expect([query, ids]).toEqual([query, index]);
    }
  }, 30_000);

  it('walks Groups the same way', async () => {
    await server.createGroup('groups');
    const client = await server.scim('groups');
    const ids: string[] = [];
    for (let i = 0; i < 17; i++) ids.push((await client.request('POST', '/Groups', { schemas: [GROUP], displayName: `team ${String.fromCharCode(122 - i)}` })).body.id);
    const { pages, ids: seen } = await walk(client, '/Groups', 'count=5');
    expect(seen).toEqual(ids);
    expect(pages.map((p) => p.body.itemsPerPage)).toEqual([5, 5, 5, 2]);
    const byName = await walk(client, '/Groups', 'count=5&sortBy=displayName&excludedAttributes=members');
    expect(byName.ids).toEqual([...ids].reverse());
    const search = await client.request('POST', '/Groups/.search', { schemas: [SEARCH], count: 16, cursor: '' });
    const rest = await client.request('POST', '/Groups/.search', { schemas: [SEARCH], count: 16, cursor: search.body.nextCursor });
    expect([...search.body.Resources, ...rest.body.Resources].map((g: { id: string }) => g.id)).toEqual(ids);
    expect(rest.body.nextCursor).toBeUndefined();
  });

  it('refuses forged, foreign and mismatched cursors with the RFC 9865 errors, and startIndex with cursor', async () => {
    await server.createGroup('errors');
    await server.createGroup('other');
    const client = await server.scim('errors');
    const other = await server.scim('other');
    await seed(client, 'e', 6);
    await seed(other, 'x', 6);
    const cursor = (await client.request('GET', '/Users?count=2&cursor=')).body.nextCursor as string;
    const error = async (r: Promise<HttpResult>) => {
      const res = await r;
      return `${res.status} ${res.body?.scimType}`;
    };
    const flipped = cursor.slice(0, 20) + (cursor[20] === 'A' ? 'B' : 'A') + cursor.slice(21);
    expect(await error(client.request('GET', `/Users?count=2&cursor=${flipped}`))).toBe('400 invalidCursor');
    expect(await error(client.request('GET', '/Users?count=2&cursor=bm90LWEtY3Vyc29y'))).toBe('400 invalidCursor');
    // Another scope's token, with the very same query: its own scope is all it may read.
    expect(await error(other.request('GET', `/Users?count=2&cursor=${cursor}`))).toBe('400 invalidCursor');
    expect(await error(client.request('GET', `/Users?count=2&filter=active%20eq%20true&cursor=${cursor}`))).toBe('400 invalidCursor');
    expect(await error(client.request('GET', `/Users?count=2&sortBy=userName&cursor=${cursor}`))).toBe('400 invalidCursor');
    expect(await error(client.request('GET', `/Groups?count=2&cursor=${cursor}`))).toBe('400 invalidCursor');
    expect(await error(client.request('GET', `/Users?count=3&cursor=${cursor}`))).toBe('400 invalidCount');
    expect(await error(client.request('GET', `/Users?count=2&startIndex=3&cursor=${cursor}`))).toBe('400 invalidValue');
    expect(await error(client.request('GET', '/Users?startIndex=1&cursor='))).toBe('400 invalidValue');
    expect(await error(client.request('POST', '/Users/.search', { schemas: [SEARCH], count: 3, cursor }))).toBe('400 invalidCount');
    expect(await error(client.request('POST', '/Users/.search', { schemas: [SEARCH], count: 2, cursor: 42 }))).toBe('400 invalidValue');
    expect(await error(client.request('POST', '/.search', { schemas: [SEARCH], count: 2, cursor: '' }))).toBe('400 invalidValue');
    // The error body is a SCIM error; the same cursor still works with the query it came from.
    const bad = await client.request('GET', `/Users?count=2&cursor=${flipped}`);
    expect(bad.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidCursor' });
    expect((await client.request('GET', `/Users?count=2&cursor=${cursor}`)).status).toBe(200);
  });

  it('never skips or repeats a user that exists throughout a walk while others are created and deleted (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          count: fc.integer({ min: 1, max: 6 }),
          order: fc.constantFrom('', 'sortBy=meta.created', 'sortBy=userName&sortOrder=descending', `filter=${encodeURIComponent('active eq true')}`),
          // Per page: how many users to create and how many of the doomed ones to delete, concurrently with the page request.
          churn: fc.array(fc.record({ create: fc.integer({ min: 0, max: 3 }), remove: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 8 }),
        }),
        async ({ count, order, churn }) => {
          // A scope of its own per run: every run walks the same 20 users and its own churn.
          await server.createGroup(`prop${++run}`);
          const client = await server.scim(`prop${run}`);
          // Stable and doomed users alternate, in creation order and in userName order.
          const seeded = await seed(client, `p${run}-`, 20);
          const stable = seeded.filter((_, i) => i % 2 === 0);
          const doomed = seeded.filter((_, i) => i % 2 === 1);
          let created = 0;
          const between = async (page: number) => {
            // Churn for the first pages only: users created behind the walk's position are walked
            // too, so endless creation would outpace a walk in creation order.
            const step = churn[page];
            if (!step) return;
            const writes: Promise<unknown>[] = [];
            for (let i = 0; i < step.create; i++) writes.push(client.request('POST', '/Users', userBody(`p${run}-n${String(created++).padStart(3, '0')}@cursor.test`)));
            for (let i = 0; i < step.remove && doomed.length > 0; i++) writes.push(client.request('DELETE', `/Users/${doomed.shift() as string}`));
            await Promise.all(writes);
          };
          const { ids } = await walk(client, '/Users', `count=${count}${order ? `&${order}` : ''}`, between);
          expect(new Set(ids).size).toBe(ids.length);
          const seen = new Set(ids);
          expect(stable.filter((id) => !seen.has(id))).toEqual([]);
        },
      ),
      { numRuns: 8, endOnFailure: true },
    );
  }, 60_000);

  it('walks 1,000 users while others are created and deleted: each one exactly once', async () => {
    await server.createGroup('large');
    const client = await server.scim('large');
    const ids = await seed(client, 'L', 1000);
    const doomed = ids.filter((_, i) => i % 7 === 3);
    const stable = ids.filter((_, i) => i % 7 !== 3);
    let n = 0;
    const { ids: seen } = await walk(client, '/Users', 'count=40', async () => {
      const writes: Promise<unknown>[] = [client.request('POST', '/Users', userBody(`late${n++}@cursor.test`))];
      for (let i = 0; i < 8 && doomed.length > 0; i++) writes.push(client.request('DELETE', `/Users/${doomed.pop() as string}`));
      await Promise.all(writes);
    });
    expect(new Set(seen).size).toBe(seen.length);
    const set = new Set(seen);
    expect(stable.filter((id) => !set.has(id))).toEqual([]);
  }, 60_000);

  it('keeps a cursor valid across a restart: the key lives in the log, not in the process', async () => {
    const first = await TestServer.start();
    let second: TestServer | undefined;
    try {
      const client = await first.scim();
      const ids = await seed(client, 'r', 5);
      const cursor = (await client.request('GET', '/Users?count=2&cursor=')).body.nextCursor as string;
      await first.stop(false);
      second = await TestServer.start({}, first.dataDir);
      const path = new URL(client.base).pathname;
      const r = await second.http('GET', `${path}/Users?count=2&cursor=${cursor}`, { token: client.token });
      expect(r.status).toBe(200);
      expect(r.body.Resources.map((u: { id: string }) => u.id)).toEqual(ids.slice(2, 4));
    } finally {
      await second?.stop();
    }
  }, 30_000);

  it('expires a cursor after cursorTimeout (expiredCursor)', async () => {
    const short = await TestServer.start({ SCIM_CURSOR_TIMEOUT_SECONDS: '1' });
    try {
      const client = await short.scim();
      await seed(client, 'x', 3);
      const cursor = (await client.request('GET', '/Users?count=1&cursor=')).body.nextCursor as string;
      expect((await short.scim()).base).toBe(client.base);
      const expired = await waitFor(
        async () => {
          const res = await client.request('GET', `/Users?count=1&cursor=${cursor}`);
          return res.status === 400 ? res : undefined;
        },
        { timeoutMs: 5000, intervalMs: 100, what: 'the cursor to expire' },
      );
      expect(expired.body).toMatchObject({ status: '400', scimType: 'expiredCursor' });
      expect((await client.request('GET', '/ServiceProviderConfig')).body.pagination.cursorTimeout).toBe(1);
    } finally {
      await short.stop();
    }
  }, 30_000);
});
