// The six phases every server runs. Each has a correctness check, run against the server
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
];
