// The ceiling: a bare node:http server answering every request with one fixed SCIM user of
// the same shape and size as ours. Nothing can be faster on this machine with this stack.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const user = JSON.stringify({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'ext-0000001',
  userName: 'bench.user.0000001@example.com',
  name: { givenName: 'Bench', familyName: 'User 1' },
  emails: [{ value: 'bench.user.0000001@example.com', type: 'work', primary: true }],
  active: true,
  meta: {
    resourceType: 'User',
    created: '2026-11-25T00:00:00.000Z',
    lastModified: '2026-11-25T00:00:00.000Z',
    location: `http://127.0.0.1:${port}/scim/Users/2819c223-7f76-453a-919d-413861904646`,
    version: 'W/"0"',
  },
});
const list = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [JSON.parse(user)] });

createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = req.url.includes('?') ? list : user;
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/scim+json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
