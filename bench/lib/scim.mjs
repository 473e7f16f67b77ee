// A small SCIM client for preloading and for the correctness checks (the load itself is
// autocannon's). Every server is { name, origin, basePath, token }.
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const pad = (i) => String(i).padStart(7, '0');

/** The preloaded user i of a prefix; userName is `<prefix>.user.<7 digits>@example.com`. */
export function userName(i, prefix = 'bench') {
  return `${prefix}.user.${pad(i)}@example.com`;
}

export function userBody(i, prefix = 'bench') {
  return {
    schemas: [USER_SCHEMA],
    userName: userName(i, prefix),
    externalId: `${prefix}-ext-${i}`,
    name: { givenName: 'Bench', familyName: `User ${i}` },
    emails: [{ value: userName(i, prefix), type: 'work', primary: true }],
    active: true,
  };
}

/** Okta's PUT: the whole user with the id it was given, userName unchanged, a new name, active. */
export function putBody(i, id, salt) {
  return { ...userBody(i), id, name: { givenName: 'Put', familyName: `User ${i} ${salt}` }, active: true };
}

/** Entra's deactivation: capitalised op, the boolean as a string. */
export const ENTRA_DEACTIVATE = {
  schemas: [PATCH_SCHEMA],
  Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
};

export function addMembers(ids) {
  return {
    schemas: [PATCH_SCHEMA],
    Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }],
  };
}

export async function call(
  server,
  method,
  path,
  body,
  { bearer = server.token, prefix = server.basePath } = {},
) {
  const r = await fetch(`${server.origin}${prefix}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      accept: 'application/scim+json, application/json',
      ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await r.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, body: json, text };
}

/** POSTs users 0..count-1 of `prefix`, `parallel` at a time; returns their ids in order. */
export async function preload(server, count, { prefix = 'bench', parallel = 32, log } = {}) {
  const ids = new Array(count);
  let next = 0;
  let done = 0;
  const started = Date.now();
  let lastNote = started;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        const r = await call(server, 'POST', '/Users', userBody(i, prefix));
        if (r.status !== 201 || typeof r.body?.id !== 'string')
          throw new Error(
            `${server.name}: preloading user ${i} answered ${r.status} ${r.text.slice(0, 300)}`,
          );
        ids[i] = r.body.id;
        done++;
        if (log && Date.now() - lastNote > 5000) {
          lastNote = Date.now();
          log(`  ${server.name}: preloaded ${done}/${count} (${prefix})`);
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  log?.(
    `  ${server.name}: preloaded ${count} users (${prefix}) in ${seconds.toFixed(1)} s, ${Math.round(count / seconds)}/s`,
  );
  // The first import's figures (wall time, rate): the run reports them as a row of their own.
  ids.importSeconds = seconds;
  return ids;
}
