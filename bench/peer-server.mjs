// The peer: an in-memory SCIM server built from scimmy + scimmy-routers + express, with the
// handlers a capable user of those libraries would write: a Map by id, a userName index for
// `userName eq` look-ups, and list handlers that build only the requested page.
import { randomUUID } from 'node:crypto';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

const port = Number(process.env.PORT);
const TOKEN = process.env.PEER_TOKEN;
const users = new Map();
const byUserName = new Map();
const order = [];

const now = () => new Date().toISOString();

/** `userName eq "x"` as SCIMMY parses it: [{ userName: ['eq', 'x'] }]. */
function userNameEquals(filter) {
  if (!filter || filter.length !== 1) return undefined;
  const keys = Object.keys(filter[0]);
  if (keys.length !== 1 || keys[0].toLowerCase() !== 'username') return undefined;
  const [op, value] = filter[0][keys[0]];
  return op === 'eq' && typeof value === 'string' ? value.toLowerCase() : undefined;
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .ingress((resource, data) => {
    if (resource.id) {
      const existing = users.get(resource.id);
      if (!existing) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      const updated = { ...data, id: resource.id, meta: { ...existing.meta, lastModified: now() } };
      if (existing.userName.toLowerCase() !== String(data.userName).toLowerCase()) {
        if (byUserName.has(String(data.userName).toLowerCase()))
          throw new SCIMMY.Types.Error(409, 'uniqueness', 'userName taken');
        byUserName.delete(existing.userName.toLowerCase());
        byUserName.set(String(data.userName).toLowerCase(), resource.id);
      }
      users.set(resource.id, updated);
      return updated;
    }
    const key = String(data.userName).toLowerCase();
    if (byUserName.has(key)) throw new SCIMMY.Types.Error(409, 'uniqueness', 'userName taken');
    const id = randomUUID();
    const created = { ...data, id, meta: { created: now(), lastModified: now() } };
    users.set(id, created);
    byUserName.set(key, id);
    order.push(id);
    return created;
  })
  .egress((resource) => {
    if (resource.id) {
      const u = users.get(resource.id);
      if (!u) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      return u;
    }
    const { startIndex = 1, count = 20 } = resource.constraints ?? {};
    const eq = userNameEquals(resource.filter);
    if (eq !== undefined) {
      const id = byUserName.get(eq);
      const found = id ? [users.get(id)] : [];
      resource.constraints = { ...resource.constraints, totalResults: found.length };
      return startIndex > found.length ? [] : found;
    }
    // Any other filter: SCIMMY's own matcher over every user (not benchmarked), paged by SCIMMY.
    if (resource.filter && resource.filter.length) return resource.filter.match([...users.values()]);
    const total = order.length;
    resource.constraints = { ...resource.constraints, totalResults: total };
    // SCIMMY's ListResponse slices again from startIndex whenever the array it gets is at least
    // startIndex long and totalResults != length + startIndex - 1. A page alone is only left
    // alone when it is shorter than startIndex, so for startIndex <= count hand it the prefix
    // up to the page's end (at most 2 × count items) and let SCIMMY cut it; a small store
    // (where the prefix could hit that equality by chance) is handed whole.
    if (total <= 3 * count) return order.map((id) => users.get(id));
    const from = startIndex <= count ? 0 : startIndex - 1;
    return order.slice(from, startIndex - 1 + count).map((id) => users.get(id));
  })
  .degress((resource) => {
    const u = users.get(resource.id);
    if (!u) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    users.delete(resource.id);
    byUserName.delete(u.userName.toLowerCase());
    order.splice(order.indexOf(resource.id), 1);
  });

const app = express();
// What a capable integrator adds in front of SCIMMY for real IdPs:
// - numeric paging parameters: SCIMMY only takes integer startIndex/count, and scimmy-routers'
//   own cast is lost on Express 5, whose req.query getter parses the URL again on every read
//   (without this, every list silently answers 20 resources from index 1);
// - Entra's PATCH dialect: capitalised ops ("Replace") and booleans as strings ("False").
// Everything else (validation, PATCH, rendering) is SCIMMY's.
app.use((req, _res, next) => {
  const query = { ...req.query };
  for (const k of ['startIndex', 'count'])
    if (typeof query[k] === 'string' && /^\d+$/.test(query[k])) query[k] = Number(query[k]);
  Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true });
  next();
});
app.use(express.json({ type: ['application/json', 'application/scim+json'], limit: '32mb' }));
app.use((req, _res, next) => {
  const ops = req.method === 'PATCH' && Array.isArray(req.body?.Operations) ? req.body.Operations : [];
  for (const op of ops) {
    if (typeof op.op === 'string') op.op = op.op.toLowerCase();
    if (typeof op.value === 'string' && /^(true|false)$/i.test(op.value) && /active$/i.test(op.path ?? ''))
      op.value = op.value.toLowerCase() === 'true';
  }
  next();
});
app.use(
  '/scim',
  new SCIMMYRouters({
    type: 'bearer',
    // Absolute meta.location, as ours renders it, so the two answer bodies compare.
    baseUri: (req) => `http://${req.headers.host}`,
    handler: (request) => {
      if (request.header('Authorization') !== `Bearer ${TOKEN}`)
        throw new Error('Authorization not detected!');
      return 'bench';
    },
  }),
);
app.listen(port, '127.0.0.1', () => process.send?.('ready'));
