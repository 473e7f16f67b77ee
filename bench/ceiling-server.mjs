// The ceiling: a bare node:http server that answers every request with a fixed body, so its
// req/s is what this machine, Node and autocannon can do at all for answers of that size.
// The body is one real user resource of ours, captured by run.mjs after the preload and
// passed in CEILING_USER (or, without ours, a user of the same attributes and shape).
// Queries get the answer of the same size ours would give: a ListResponse with that user
// once (`filter=…`) or `count` times (`count=N`), built once and cached.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const user = process.env.CEILING_USER
  ? JSON.parse(process.env.CEILING_USER)
  : {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: '2819c223-7f76-453a-919d-413861904646',
      externalId: 'bench-ext-1',
      userName: 'bench.user.0000001@example.com',
      name: { givenName: 'Bench', familyName: 'User 1' },
      emails: [{ value: 'bench.user.0000001@example.com', type: 'work', primary: true }],
      active: true,
      meta: {
        resourceType: 'User',
        created: '2026-01-01T00:00:00.000Z',
        lastModified: '2026-01-01T00:00:00.000Z',
        location: `http://127.0.0.1:${port}/api/scim/v2/application/Users/2819c223-7f76-453a-919d-413861904646`,
        version: 'W/"1"',
      },
    };

const one = Buffer.from(JSON.stringify(user));
const lists = new Map();
function list(n) {
  let body = lists.get(n);
  if (!body) {
    const Resources = Array.from({ length: n }, () => user);
    body = Buffer.from(
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 10000,
        startIndex: 1,
        itemsPerPage: n,
        Resources,
      }),
    );
    lists.set(n, body);
  }
  return body;
}

createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    let body = one;
    const q = req.url.indexOf('?');
    if (q >= 0) {
      const params = new URLSearchParams(req.url.slice(q + 1));
      const count = Number(params.get('count'));
      body = params.has('filter')
        ? list(1)
        : list(Number.isInteger(count) && count >= 0 ? Math.min(count, 1000) : 100);
    }
    res.writeHead(req.method === 'POST' ? 201 : 200, {
      'content-type': 'application/scim+json; charset=utf-8',
      'content-length': body.length,
    });
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
