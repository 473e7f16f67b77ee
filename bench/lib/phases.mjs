// The seven phases every server runs. Each has a correctness check, run against the server
// just before it is measured (a benchmark of wrong answers is worthless), and a request
// generator for autocannon. The ceiling answers a fixed body: it is only checked for 2xx.
import { call, ENTRA_DEACTIVATE, putBody, userBody, userName } from './scim.mjs';

export class CheckFailed extends Error {}

const rand = (n) => Math.floor(Math.random() * n);
const expect = (ok, message) => {
  if (!ok) throw new CheckFailed(message);
};
const show = (r) => `${r.status} ${r.text.slice(0, 300)}`;
const filterPath = (s, name) => `${s.basePath}/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`;

async function ceilingCheck(s, method, path, body) {
  const r = await call(s, method, path, body);
  expect(r.status >= 200 && r.status < 300, `ceiling answered ${show(r)}`);
}

async function getUser(s, id) {
  const r = await call(s, 'GET', `/Users/${id}`);
  expect(r.status === 200, `GET /Users/${id} answered ${show(r)}`);
  return r.body;
}

export const PHASES = [
  {
    name: 'post-users',
    async check(s, ctx) {
      if (s.name === 'ceiling') return ceilingCheck(s, 'POST', '/Users', userBody(0, 'check'));
      const body = userBody(0, `check${ctx.tag}`);
      const r = await call(s, 'POST', '/Users', body);
      expect(r.status === 201, `POST /Users answered ${show(r)}`);
      expect(
        typeof r.body?.id === 'string' && r.body.id.length > 0,
        `POST /Users returned no id: ${show(r)}`,
      );
      expect(r.body.userName === body.userName, `POST /Users returned userName ${r.body.userName}`);
      const back = await getUser(s, r.body.id);
      expect(
        back.userName === body.userName && back.active === true,
        `the created user reads back as ${JSON.stringify(back)}`,
      );
    },
    // A unique userName per request: a counter over all connections, under a per-run prefix.
    request: (s, ctx) => (n) => ({
      method: 'POST',
      path: `${s.basePath}/Users`,
      body: userBody(n, `post${ctx.tag}`),
    }),
  },
  {
    name: 'filter-username',
    async check(s) {
      if (s.name === 'ceiling')
        return ceilingCheck(s, 'GET', filterPath(s, userName(1)).slice(s.basePath.length));
      for (const i of [rand(s.ids.length), rand(s.ids.length)]) {
        const r = await call(s, 'GET', filterPath(s, userName(i)).slice(s.basePath.length));
        expect(r.status === 200, `filter answered ${show(r)}`);
        expect(
          r.body?.totalResults === 1 && r.body?.Resources?.length === 1,
          `filter userName eq "${userName(i)}" found ${r.body?.totalResults} (${r.body?.Resources?.length} resources), expected exactly 1`,
        );
        expect(
          r.body.Resources[0].id === s.ids[i],
          `filter found id ${r.body.Resources[0].id}, expected ${s.ids[i]}`,
        );
      }
      const none = await call(s, 'GET', filterPath(s, 'nobody.at.all@example.com').slice(s.basePath.length));
      expect(
        none.status === 200 && none.body?.totalResults === 0,
        `filter on an unknown userName answered ${show(none)}`,
      );
      // userName is caseExact=false (RFC 7643 §4.1.1): a warning only, the phase uses exact case.
      const upper = await call(s, 'GET', filterPath(s, userName(3).toUpperCase()).slice(s.basePath.length));
      if (upper.body?.totalResults !== 1)
        return `warning: filter userName eq "${userName(3).toUpperCase()}" found ${upper.body?.totalResults}, expected 1 (userName is case-insensitive)`;
    },
    request: (s) => () => ({ method: 'GET', path: filterPath(s, userName(rand(s.ids.length))) }),
  },
  {
    name: 'get-by-id',
    async check(s) {
      if (s.name === 'ceiling') return ceilingCheck(s, 'GET', `/Users/${s.ids[0]}`);
      const i = rand(s.ids.length);
      const u = await getUser(s, s.ids[i]);
      expect(
        u.id === s.ids[i] && u.userName === userName(i),
        `GET /Users/${s.ids[i]} returned ${JSON.stringify(u)}`,
      );
      const missing = await call(s, 'GET', '/Users/00000000-0000-4000-8000-000000000000');
      expect(missing.status === 404, `GET of an unknown id answered ${missing.status}, expected 404`);
    },
    request: (s) => () => ({ method: 'GET', path: `${s.basePath}/Users/${s.ids[rand(s.ids.length)]}` }),
  },
  {
    name: 'patch-deactivate',
    async check(s) {
      if (s.name === 'ceiling') return ceilingCheck(s, 'PATCH', `/Users/${s.ids[0]}`, ENTRA_DEACTIVATE);
      const i = rand(s.ids.length);
      const before = await getUser(s, s.ids[i]);
      expect(
        before.active === true,
        `user ${s.ids[i]} is not active before the PATCH: ${JSON.stringify(before)}`,
      );
      const r = await call(s, 'PATCH', `/Users/${s.ids[i]}`, ENTRA_DEACTIVATE);
      expect(
        r.status === 200 || r.status === 204,
        `PATCH (Entra: Replace active "False") answered ${show(r)}`,
      );
      const after = await getUser(s, s.ids[i]);
      expect(
        after.active === false,
        `after PATCH active "False" the user reads back active=${JSON.stringify(after.active)}`,
      );
      expect(after.userName === before.userName, `PATCH changed userName to ${after.userName}`);
    },
    request: (s) => () => ({
      method: 'PATCH',
      path: `${s.basePath}/Users/${s.ids[rand(s.ids.length)]}`,
      body: ENTRA_DEACTIVATE,
    }),
  },
  {
    name: 'put-replace',
    async check(s) {
      if (s.name === 'ceiling')
        return ceilingCheck(s, 'PUT', `/Users/${s.ids[0]}`, putBody(0, s.ids[0], 'check'));
      const i = rand(s.ids.length);
      const id = s.ids[i];
      const r = await call(s, 'PUT', `/Users/${id}`, putBody(i, id, 'check'));
      expect(r.status === 200, `PUT (Okta: the whole user) answered ${show(r)}`);
      const after = await getUser(s, id);
      expect(
        after.id === id && after.userName === userName(i),
        `PUT changed id/userName: ${JSON.stringify(after)}`,
      );
      expect(
        after.name?.familyName === `User ${i} check` && after.name?.givenName === 'Put',
        `after PUT the name reads back as ${JSON.stringify(after.name)}`,
      );
      expect(after.active === true, `after PUT active reads back as ${JSON.stringify(after.active)}`);
    },
    request: (s) => (n) => {
      const i = rand(s.ids.length);
      return { method: 'PUT', path: `${s.basePath}/Users/${s.ids[i]}`, body: putBody(i, s.ids[i], n) };
    },
  },
  {
    name: 'list-100',
    async check(s) {
      if (s.name === 'ceiling') {
        await ceilingCheck(s, 'GET', '/Users?startIndex=1&count=100');
        s.listTotal = s.ids.length;
        return;
      }
      const page = async (startIndex) => {
        const r = await call(s, 'GET', `/Users?startIndex=${startIndex}&count=100`);
        expect(
          r.status === 200 && Array.isArray(r.body?.Resources),
          `GET /Users?startIndex=${startIndex}&count=100 answered ${show(r)}`,
        );
        return r.body;
      };
      const first = await page(1);
      const total = first.totalResults;
      expect(
        Number.isInteger(total) && total >= s.ids.length,
        `list totalResults is ${total}, expected at least the ${s.ids.length} preloaded users`,
      );
      for (const start of [1, 2, 57, 1 + rand(total - 100), total - 49]) {
        const p = start === 1 ? first : await page(start);
        const want = Math.min(100, total - start + 1);
        expect(p.startIndex === start, `list at startIndex=${start} echoed startIndex ${p.startIndex}`);
        expect(
          p.Resources.length === want,
          `list at startIndex=${start} returned ${p.Resources.length} resources, expected ${want} (of ${total})`,
        );
        expect(
          new Set(p.Resources.map((u) => u.id)).size === want,
          `list at startIndex=${start} repeats resources`,
        );
        if (start === 57) {
          const next = await page(58);
          expect(
            next.Resources[0]?.id === p.Resources[1]?.id,
            'pages are not consistent: startIndex=58 does not start with the 2nd resource of startIndex=57',
          );
        }
      }
      s.listTotal = total;
    },
    request: (s) => () => ({
      method: 'GET',
      path: `${s.basePath}/Users?startIndex=${1 + rand(Math.max(1, s.listTotal - 99))}&count=100`,
    }),
  },
  {
    // RFC 9865 cursor pages of 100 deep in the list (the last tenth of it). The check walks the
    // whole list by cursor once (each preloaded user exactly once, nextCursor on every page but
    // the last) and keeps the deep pages' cursors; the load then asks for those pages at random.
    // The peer has no cursor paging: it gets the same depths by startIndex, which is what its
    // clients must send; the ceiling its fixed 100-user list.
    name: 'list-cursor',
    async check(s) {
      if (s.name === 'ceiling') return ceilingCheck(s, 'GET', '/Users?count=100');
      if (s.name !== 'ours') {
        const total = s.listTotal ?? s.ids.length;
        s.deepStarts = Array.from({ length: 50 }, () => 1 + Math.floor(total * 0.9) + rand(Math.max(1, Math.ceil(total * 0.1) - 99)));
        const r = await call(s, 'GET', `/Users?startIndex=${s.deepStarts[0]}&count=100`);
        expect(r.status === 200 && Array.isArray(r.body?.Resources) && r.body.Resources.length > 0, `deep index page answered ${show(r)}`);
        return;
      }
      const cursors = [];
      const seen = new Set();
      let cursor = '';
      for (let page = 0; ; page++) {
        cursors.push(cursor);
        const r = await call(s, 'GET', `/Users?count=100&cursor=${cursor}`);
        expect(r.status === 200 && Array.isArray(r.body?.Resources), `cursor page ${page} answered ${show(r)}`);
        expect(r.body.startIndex === undefined, `cursor page ${page} carries startIndex ${r.body.startIndex}`);
        for (const u of r.body.Resources) {
          expect(!seen.has(u.id), `the cursor walk repeats ${u.id} on page ${page}`);
          seen.add(u.id);
        }
        if (r.body.nextCursor === undefined) {
          expect(r.body.Resources.length <= 100, `the last cursor page holds ${r.body.Resources.length}`);
          break;
        }
        expect(r.body.Resources.length === 100, `cursor page ${page} holds ${r.body.Resources.length} resources and a nextCursor`);
        cursor = r.body.nextCursor;
      }
      const missing = s.ids.filter((id) => !seen.has(id));
      expect(missing.length === 0, `the cursor walk missed ${missing.length} preloaded users (e.g. ${missing[0]})`);
      s.deepCursors = cursors.slice(Math.floor(cursors.length * 0.9));
      s.firstCursor = cursors[0];
    },
    request: (s) => () => ({
      method: 'GET',
      path:
        s.name === 'ours'
          ? `${s.basePath}/Users?count=100&cursor=${s.deepCursors[rand(s.deepCursors.length)]}`
          : s.name === 'ceiling'
            ? `${s.basePath}/Users?count=100`
            : `${s.basePath}/Users?startIndex=${s.deepStarts[rand(s.deepStarts.length)]}&count=100`,
    }),
  },
];

/**
 * fairness (ours only): the p99 of another tenant's GET /Users/{id} on its own, then while
 * one tenant (a group-scope SCIM token plus an admin token) loops over the most expensive
 * requests the API accepts: 1,000-user pages (sorted, deep), its whole big group, the
 * management member list of that group, audit pages of 1,000, a support timeline of a user
 * with a long history, and a rebuild of every read model. Target: victim p99 ≤ 250 ms.
 */
export async function fairnessPhase(ours, { drive, summarise, duration, log, attackerUsers }) {
  const admin = async (method, path, body) => {
    const r = await fetch(`${ours.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${ours.admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(600_000),
    });
    const text = await r.text();
    expect(r.status < 300, `${method} ${path} answered ${r.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const tag = Math.random().toString(36).slice(2, 8);
  await admin('POST', '/api/v1/groups', { path: `attacker-${tag}`, name: 'attacker' });
  await admin('POST', '/api/v1/groups', { path: 'eng', name: 'eng', parentPath: `attacker-${tag}` });
  await admin('POST', '/api/v1/saml-group-links', { samlGroupName: 'everyone', groupPath: `attacker-${tag}/eng`, accessLevel: 'developer' });
  const token = (await admin('POST', '/api/v1/scim/tokens', { scope: 'group', groupPath: `attacker-${tag}` })).scim_token;
  const attacker = { name: 'attacker', origin: ours.origin, basePath: `/api/scim/v2/groups/attacker-${tag}`, token };
  log(`[fairness] ours: seeding the attacking tenant with ${attackerUsers} users in one group …`);
  const ids = [];
  for (let i = 0; i < attackerUsers; i += 1000) {
    const ops = Array.from({ length: Math.min(1000, attackerUsers - i) }, (_, k) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `u${i + k}`,
      data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `a${i + k}@attacker-${tag}.example`, name: { givenName: 'A', familyName: `U${i + k}` } },
    }));
    const r = await call(attacker, 'POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops });
    expect(r.status === 200, `Bulk answered ${show(r)}`);
    for (const o of r.body.Operations) ids.push(String(o.location).split('/').pop());
  }
  const group = (await call(attacker, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'everyone' })).body.id;
  for (let i = 0; i < ids.length; i += 1000) {
    const r = await call(attacker, 'PATCH', `/Groups/${group}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: ids.slice(i, i + 1000).map((value) => ({ value })) }],
    });
    expect(r.status < 300, `adding members answered ${show(r)}`);
  }
  const deepOps = Array.from({ length: 1000 }, (_, k) => ({
    method: 'PATCH',
    path: `/Users/${ids[0]}`,
    data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: `t${k}` }] },
  }));
  await call(attacker, 'POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: deepOps });
  const account = (await admin('GET', `/api/v1/identities/${ids[0]}`)).account.id;

  const victimRequest = () => ({ method: 'GET', path: `${ours.basePath}/Users/${ours.ids[rand(ours.ids.length)]}` });
  log(`[fairness] ours: victim GET /Users/{id} alone, ${duration} s …`);
  const alone = summarise(await drive(ours, { request: victimRequest, duration, connections: 4 }));
  // The attack's bodies are read, never parsed: this process also measures the victim.
  const raw = async (bearer, method, path, body) => {
    const r = await fetch(`${ours.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(600_000),
    });
    await r.arrayBuffer();
    // 409: the other loop's rebuild is still running.
    expect(r.status < 300 || r.status === 409, `attack ${method} ${path} answered ${r.status}`);
  };
  const b = attacker.basePath;
  const attacks = [
    () => raw(token, 'GET', `${b}/Users?count=1000`),
    () => raw(token, 'GET', `${b}/Users?count=1000&startIndex=${Math.max(1, ids.length - 1000)}&sortBy=name.familyName&sortOrder=descending`),
    () => raw(token, 'GET', `${b}/Groups/${group}`),
    // Filters that walk every stored document (the filter budget's most: 4 walks) run on a scan worker.
    () => raw(token, 'GET', `${b}/Users?count=1000&filter=${encodeURIComponent('emails co "attacker" or title co "x"')}`),
    () => raw(token, 'GET', `${b}/Users?filter=${encodeURIComponent('emails.value co "9" and title co "t" and name.givenName co "a" and phoneNumbers.value co "1"')}`),
    // The big group replaced whole, half its members out then all back (409 when the other loop's PUT is in flight).
    () => raw(token, 'PUT', `${b}/Groups/${group}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'everyone', members: ids.slice(0, ids.length >> 1).map((value) => ({ value })) }),
    () => raw(token, 'PUT', `${b}/Groups/${group}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'everyone', members: ids.map((value) => ({ value })) }),
    () => raw(ours.admin, 'GET', `/api/v1/groups/attacker-${tag}%2Feng/members`),
    () => raw(ours.admin, 'GET', '/api/v1/audit/events?limit=1000&until=2999-01-01T00:00:00Z'),
    () => raw(ours.admin, 'GET', `/api/v1/support/accounts/${account}/timeline`),
    () => raw(ours.admin, 'POST', '/api/v1/projections/rebuild', {}),
  ];
  let attacking = true;
  let attackRequests = 0;
  // Two attack loops at once, each walking the list.
  const loops = [0, 5].map(async (offset) => {
    for (let i = offset; attacking; i++) {
      await attacks[i % attacks.length]();
      attackRequests++;
    }
  });
  log(`[fairness] ours: victim GET /Users/{id} while the other tenant attacks, ${duration} s …`);
  const attacked = summarise(await drive(ours, { request: victimRequest, duration, connections: 4 }));
  attacking = false;
  await Promise.all(loops);
  const row = {
    victimP50Alone: alone.summary.p50,
    victimP99Alone: alone.summary.p99,
    victimP50UnderAttack: attacked.summary.p50,
    victimP99UnderAttack: attacked.summary.p99,
    victimNon2xxUnderAttack: attacked.summary.non2xx,
    attackRequests,
    attackerUsers,
    targetP99Ms: 250,
  };
  log(
    `[fairness] ours: victim p99 ${row.victimP99Alone} ms alone, ${row.victimP99UnderAttack} ms under attack (${attackRequests} attack requests; target ≤ 250 ms)`,
  );
  return row;
}
