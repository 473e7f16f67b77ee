// The support and audit console: plain browser JavaScript over the management API, served as
// static files with no build step and no CDN. Hash routes make every view a link:
//   #/person/<account>[?at=<ISO>]   #/event/<id>   #/request/<request id>   #/audit?filter=…&q=…
//   #/nameid?nameId=…   #/health?hours=24   #/streams?show=attention
'use strict';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'scim-console-token';
const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  session: null,
  groups: new Map(), // id → full path
  tokens: new Map(), // id → name (admin only: token lists are admin-only)
  accountId: null,
  identities: [],
  auditPages: [], // cursors of the pages shown so far (for "previous")
  auditQuery: null,
};
const ACCESS_LEVELS = { 0: 'No access', 5: 'Minimal access', 10: 'Guest', 15: 'Planner', 20: 'Reporter', 30: 'Developer', 40: 'Maintainer', 50: 'Owner' };
const VIEWS_BY_ROLE = { admin: ['person', 'nameid', 'audit', 'health', 'streams'], support: ['person', 'nameid'], auditor: ['audit', 'health', 'streams'] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// Break opportunities after the separators inside identifiers (emails, paths, ids): a narrow column
// then wraps "ada.lovelace@example.com" at "@" or "." instead of in the middle of a word.
function breakable(text) {
  return String(text).split(/(?<=[@./])/).flatMap((part, i) => (i === 0 ? [part] : [el('wbr'), part]));
}

// ---------- time: inputs are local time with seconds; display is local with UTC on hover ----------

function toIso(local) {
  return local ? new Date(local).toISOString() : undefined;
}
function toLocalInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const timeFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const relFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
function relative(iso) {
  const s = (Date.parse(iso) - Date.now()) / 1000;
  const units = [['year', 31536000], ['month', 2592000], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
  for (const [unit, size] of units) if (Math.abs(s) >= size || unit === 'second') return relFormat.format(Math.round(s / size), unit);
  return '';
}
function when(iso, withRelative = true) {
  if (!iso) return el('span', { class: 'empty' }, 'now');
  return el('time', { datetime: iso, title: `${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC` }, timeFormat.format(new Date(iso)), withRelative ? el('span', { class: 'hint' }, ` (${relative(iso)})`) : '');
}

// ---------- names instead of ids; the id on hover and a copy button ----------

function copyButton(value, label) {
  return el('button', { type: 'button', class: 'small', title: `Copy ${value}`, 'aria-label': `Copy ${label}`, onclick: () => window.navigator.clipboard?.writeText(value).catch(() => undefined) }, 'copy');
}
function named(name, id, label = 'id') {
  return el('span', {}, el('span', { title: `${label}: ${id}` }, name), copyButton(id, label));
}
function scopeName(scope) {
  if (!scope || scope === 'instance') return 'instance';
  if (scope === 'application') return 'instance (application)';
  const m = /^group:(.+)$/.exec(scope);
  return m ? state.groups.get(m[1]) || `group ${m[1].slice(0, 8)}…` : scope;
}
function scopeCell(scope) {
  const name = scopeName(scope);
  return scope && scope.startsWith('group:') ? named(name, scope, 'scope') : name;
}
function levelName(v) {
  if (v === undefined || v === null) return 'none';
  return ACCESS_LEVELS[v] ? `${ACCESS_LEVELS[v]}` : String(v);
}
function actorCell(actor) {
  if (!actor) return '';
  const id = actor.tokenId;
  const kind = actor.kind === 'scim' ? 'SCIM token' : actor.kind === 'management' ? 'management token' : actor.kind;
  if (!id) return kind;
  const name = state.tokens.get(id) || (id.startsWith('env:') ? 'ADMIN_TOKEN' : null);
  return el('span', {}, `${kind} `, named(name || `${String(id).slice(0, 8)}…`, String(id), 'token id'));
}
/** `identities.<id>.x` and `membership.<group id>.<source>` paths with names for the ids; levels by name. */
function changeText(c) {
  let path = c.path;
  let from = fmt(c.from);
  let to = fmt(c.to);
  const identity = /^identities\.([0-9a-f-]{36})\.(.+)$/.exec(path);
  if (identity) {
    const i = state.identities.find((x) => x.id === identity[1]);
    path = `${i ? `${i.userName} in ${scopeName(i.scope)}` : `identity ${identity[1].slice(0, 8)}…`}: ${identity[2]}`;
  }
  const membership = /^membership\.([0-9a-f-]{36})\.(.+)$/.exec(path);
  if (membership) {
    path = `membership in ${state.groups.get(membership[1]) || `group ${membership[1].slice(0, 8)}…`} (${membership[2]})`;
    from = levelName(c.from);
    to = levelName(c.to);
  }
  return { path, from, to };
}
function fmt(v) {
  return v === undefined || v === null ? '∅' : typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}
/** A timeline entry in words, with names where the server's one-line summary has ids and numbers. */
function describe(entry) {
  const d = entry.data || {};
  if (entry.type === 'GroupMembershipChanged') {
    const group = state.groups.get(d.groupId) || `group ${String(d.groupId).slice(0, 8)}…`;
    return el('span', {}, 'membership in ', named(group, String(d.groupId), 'group id'), ` (${d.source}): ${levelName(d.from)} → ${levelName(d.to)} — ${d.cause || ''}`);
  }
  if (entry.type === 'IdentityLinked') return `linked to ${scopeName(d.scope)} as ${d.userName} (${d.reason})`;
  return entry.summary;
}

// ---------- API, errors at the top, loading states ----------

const CONFLICTS = {
  conflict: 'Someone changed this at the same moment; nothing was written. Reload and try again.',
  uniqueness: 'Another identity already holds this value in the scope; nothing was written.',
  last_owner: 'This would leave the group without an owner; nothing was written.',
};
function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
  if (message) box.focus?.();
}
async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { authorization: `Bearer ${state.token}`, ...(options.body ? { 'content-type': 'application/json' } : {}), ...(options.headers || {}) } });
  if (!res.ok) {
    let body = {};
    try {
      body = await res.json();
    } catch {
      // not a JSON error body: keep the status
    }
    const detail = body.detail || body.message || res.statusText;
    const rid = body.requestId ? ` (request ${body.requestId})` : '';
    const message =
      res.status === 401 ? 'The token is not valid (any more). Sign in again.'
      : res.status === 403 ? `This token's role may not do that: ${detail}`
      : res.status === 404 ? `Not found: ${detail}`
      : res.status === 409 ? `${CONFLICTS[body.error] || 'Conflict: nothing was written.'} (${detail})`
      : res.status === 429 ? 'Too many requests: wait a minute and try again.'
      : `Request failed (${res.status}): ${detail}`;
    const err = new Error(message + rid);
    err.status = res.status;
    throw err;
  }
  return res;
}
/** Runs a view's loader: a loading line in its box, errors at the top replacing the stale result. */
async function load(box, work) {
  showError('');
  if (box) box.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading…'));
  try {
    await work();
  } catch (err) {
    if (box) box.replaceChildren();
    showError(err.message);
    if (err.status === 401) signOut(false);
  }
}

// ---------- sign-in, role-aware navigation ----------

async function signIn(token) {
  state.token = token;
  const session = await (await api('/api/v1/session')).json();
  state.session = session;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('signin').hidden = true;
  $('signout').hidden = false;
  const views = VIEWS_BY_ROLE[session.role] || [];
  for (const a of document.querySelectorAll('#tabs a')) a.hidden = !views.includes(a.dataset.view);
  $('tabs').hidden = false;
  $('who').textContent = `Signed in as ${session.name ? `“${session.name}” ` : ''}(${session.role}${session.role === 'auditor' ? (session.pii ? ', personal data shown' : ', personal data masked') : ''})`;
  const [groups, tokens] = await Promise.all([
    api('/api/v1/groups').then((r) => r.json()).catch(() => []),
    session.role === 'admin' ? Promise.all(['/api/v1/tokens', '/api/v1/scim/tokens'].map((p) => api(p).then((r) => r.json()))).then((a) => a.flat()).catch(() => []) : [],
  ]);
  state.groups = new Map(groups.map((g) => [g.id, g.fullPath]));
  state.tokens = new Map(tokens.filter((t) => t.name).map((t) => [t.id, t.name]));
  route();
}
function signOut(reload = true) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  if (reload) {
    location.hash = '';
    location.reload();
  } else {
    $('signin').hidden = false;
    $('tabs').hidden = true;
    $('signout').hidden = true;
    for (const v of document.querySelectorAll('.view')) v.hidden = true;
  }
}
$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  $('token').value = '';
  showError('');
  signIn(token).catch((err) => {
    state.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    showError(err.status === 401 ? 'That token is not valid. Use a management token (admin, support or auditor).' : err.message);
  });
});
$('signout').addEventListener('click', () => signOut());

// ---------- routing ----------

function show(view) {
  const allowed = VIEWS_BY_ROLE[state.session?.role] || [];
  const target = allowed.includes(view) ? view : allowed[0];
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${target}`;
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.view === target) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  return target;
}
function route() {
  if (!state.session) return;
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(query);
  const [view, id, sub, subId] = path.split('/').map(decodeURIComponent);
  if (view === 'person' && id) {
    if (show('person') === 'person') openPerson(id, { at: params.get('at'), event: sub === 'event' ? subId : undefined });
  } else if (view === 'event' && id) {
    routeAudit(new URLSearchParams({ filter: `id eq "${id}"` }));
  } else if (view === 'request' && id) {
    routeAudit(new URLSearchParams({ filter: `correlationId eq "${id}"` }));
  } else if (view === 'audit') {
    routeAudit(params);
  } else if (view === 'health') {
    if (show('health') === 'health') {
      const hours = params.get('hours') || '24';
      $('health-window').value = [...$('health-window').options].some((o) => o.value === hours) ? hours : '24';
      loadHealth(Number($('health-window').value));
    }
  } else if (view === 'streams') {
    if (show('streams') === 'streams') {
      $('streams-show').value = params.get('show') === 'attention' ? 'attention' : 'all';
      loadStreams();
    }
  } else if (view === 'nameid') {
    show('nameid');
    if (params.get('nameId')) {
      $('nameid').value = params.get('nameId');
      diagnose(params.get('nameId'));
    }
  } else {
    show(view || '');
  }
}
function routeAudit(params) {
  if (show('audit') !== 'audit') return;
  $('filter').value = params.get('filter') || '';
  $('keywords').value = params.get('q') || '';
  $('since').value = params.get('since') ? toLocalInput(params.get('since')) : '';
  $('until').value = params.get('until') ? toLocalInput(params.get('until')) : '';
  $('order').value = params.get('sortOrder') === 'ascending' ? 'ascending' : 'descending';
  searchAudit();
  loadCheckpoints();
}
window.addEventListener('hashchange', route);
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// ---------- person: search, story, state at a moment or an event, remediation ----------

$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  load($('search-results'), async () => {
    const params = new URLSearchParams({ q: $('q').value.trim() });
    if ($('q-at').value) params.set('at', toIso($('q-at').value));
    const result = await (await api(`/api/v1/support/search?${params}`)).json();
    const box = $('search-results');
    if (result.accounts.length === 0) {
      box.replaceChildren(el('p', { class: 'empty' }, `Nobody held “${result.query}”`, result.at ? [' at ', when(result.at, false)] : '', '.'));
      return;
    }
    box.replaceChildren(
      el('p', { class: 'hint' }, `${result.matches.length} match${result.matches.length === 1 ? '' : 'es'} on ${result.accounts.length} account${result.accounts.length === 1 ? '' : 's'}`),
      el('div', { class: 'scroll' }, el('table', {},
        el('thead', {}, el('tr', {}, ['Kind', 'Value', 'Scope', 'Held from', 'until', 'Account'].map((h) => el('th', {}, h)))),
        el('tbody', {}, result.matches.map((m) =>
          el('tr', {}, el('td', {}, m.kind), el('td', {}, m.value), el('td', {}, scopeCell(m.scope)), el('td', { class: 'nowrap' }, when(m.from)), el('td', { class: 'nowrap' }, m.to ? when(m.to) : 'now'),
            el('td', {}, el('a', { href: `#/person/${m.accountId}`, title: `account ${m.accountId}`, 'aria-label': `Open account ${m.accountId}` }, `Open ${m.accountId.slice(0, 8)}…`))))))),
    );
  });
});

async function openPerson(accountId, { at, event } = {}) {
  const sameAccount = state.accountId === accountId;
  state.accountId = accountId;
  $('person').hidden = false;
  $('account-id').replaceChildren(el('span', { class: 'id' }, accountId), copyButton(accountId, 'account id'));
  if (!sameAccount) {
    $('state').replaceChildren();
    $('remediation').replaceChildren();
    await load($('timeline'), async () => {
      // The account now: its name, and its identities for names in diffs and for the fix form.
      const now = await (await api(`/api/v1/support/accounts/${encodeURIComponent(accountId)}/state?at=${encodeURIComponent(new Date().toISOString())}`)).json();
      state.identities = Object.values(now.state.identities || {});
      $('account-name').textContent = now.state.username || '';
      fillIdentities();
      await loadTimeline(accountId);
    });
  }
  if (event) {
    const node = document.getElementById(`event-${event}`);
    if (node) {
      for (const d of document.querySelectorAll('#timeline details.focus')) d.classList.remove('focus');
      node.classList.add('focus');
      node.scrollIntoView({ block: 'center' });
    }
  }
  if (at) {
    $('state-at').value = toLocalInput(at);
    await showState(at);
  } else if (!sameAccount) {
    await showState(new Date().toISOString(), true);
  }
}

async function loadTimeline(accountId) {
  const { entries } = await (await api(`/api/v1/support/accounts/${encodeURIComponent(accountId)}/timeline`)).json();
  // One request can cause several events: group them under it.
  const byRequest = new Map();
  for (const entry of entries) {
    const key = entry.requestId || entry.position;
    if (!byRequest.has(key)) byRequest.set(key, []);
    byRequest.get(key).push(entry);
  }
  const box = $('timeline');
  if (byRequest.size === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No events for this account.'));
    return;
  }
  box.replaceChildren(...[...byRequest].map(([requestId, group]) => {
    const first = group[0];
    const rejected = group.some((g) => g.outcome === 'rejected');
    const last = group[group.length - 1];
    return el('details', { open: true, id: `event-${first.position}` },
      el('summary', { class: rejected ? 'rejected' : '' },
        when(first.occurredAt || first.recordedAt), ' — ', el('strong', {}, group.map((g) => g.type).join(', ')), rejected ? ' (refused)' : ''),
      el('p', { class: 'hint' }, 'by ', actorCell(first.actor), first.idp ? ` via ${first.idp}` : '', ' · scope ', scopeCell(first.scope), ' · ',
        el('a', { href: `#/request/${encodeURIComponent(requestId)}`, title: `all audit records of request ${requestId}` }, 'request'), copyButton(String(requestId), 'request id'), ' · ',
        el('a', { href: `#/person/${state.accountId}/event/${first.position}`, title: 'link to this event' }, 'link')),
      el('ul', {}, group.map((g) => el('li', { class: g.outcome === 'rejected' ? 'rejected' : '' }, `${g.type}: `, describe(g)))),
      rejected ? '' : el('button', { type: 'button', class: 'secondary', onclick: () => go(`#/person/${state.accountId}/event/${first.position}?at=${encodeURIComponent(last.occurredAt || last.recordedAt)}`) }, 'State at this event'),
    );
  }));
}

$('state-form').addEventListener('submit', (e) => {
  e.preventDefault();
  go(`#/person/${state.accountId}?at=${encodeURIComponent(toIso($('state-at').value))}`);
});

async function showState(at, isNow = false) {
  await load($('state'), async () => {
    const id = encodeURIComponent(state.accountId);
    const [then, diff] = await Promise.all([
      api(`/api/v1/support/accounts/${id}/state?at=${encodeURIComponent(at)}`).then((r) => r.json()),
      isNow ? { changes: [] } : api(`/api/v1/support/accounts/${id}/diff?fromAt=${encodeURIComponent(at)}&toAt=${encodeURIComponent(new Date().toISOString())}`).then((r) => r.json()),
    ]);
    const identities = Object.values(then.state.identities || {});
    $('state').replaceChildren(
      el('p', {}, isNow ? 'Now' : ['At ', when(at)], `: account ${then.state.username || '(not yet created)'}, ${then.state.blocked ? 'blocked' : 'active'}, revision ${then.revision}.`),
      identities.length === 0 ? el('p', { class: 'empty' }, 'No identities at that moment.') : el('div', { class: 'scroll' }, el('table', {},
        el('thead', {}, el('tr', {}, ['Scope', 'userName', 'externalId / NameID', 'Active', 'externalId set by'].map((h) => el('th', {}, h)))),
        el('tbody', {}, identities.map((i) => {
          const origin = then.setBy[`identities.${i.id}.externalId`];
          return el('tr', { title: `identity ${i.id}` }, el('td', {}, scopeCell(i.scope)), el('td', {}, breakable(i.userName)), el('td', {}, breakable(`${i.externalId || '–'} / ${i.samlNameId || '–'}`)),
            el('td', {}, i.deleted ? 'deleted' : i.active ? 'yes' : 'no'), el('td', {}, origin ? [`${origin.type} `, when(origin.at)] : '–'));
        })))),
      isNow ? '' : el('h4', {}, 'Changed since then'),
      isNow ? '' : diff.changes.length === 0
        ? el('p', { class: 'empty' }, 'Nothing.')
        : el('div', { class: 'scroll' }, el('table', { class: 'diff' },
            el('thead', {}, el('tr', {}, el('th', {}, 'Field'), el('th', {}, 'Then'), el('th', {}, 'Now'))),
            el('tbody', {}, diff.changes.map((c) => {
              const t = changeText(c);
              return el('tr', {}, el('td', { title: c.path }, breakable(t.path)), el('td', { class: 'diff-del' }, breakable(t.from)), el('td', { class: 'diff-add' }, breakable(t.to)));
            })))),
    );
  });
}

function fillIdentities() {
  $('r-identity').replaceChildren(...state.identities.map((i) => el('option', { value: i.id }, `${i.userName} in ${scopeName(i.scope)}${i.deleted ? ' (deleted)' : i.active ? '' : ' (inactive)'}`)));
}
function syncRemediationFields() {
  const action = $('r-action').value;
  for (const label of document.querySelectorAll('#remediate-form [data-for]')) label.hidden = !label.dataset.for.split(' ').includes(action);
}
$('r-action').addEventListener('change', () => {
  syncRemediationFields();
  $('remediation').replaceChildren();
});
syncRemediationFields();

function remediationBody(dryRun) {
  const action = $('r-action').value;
  const body = { action, reason: $('r-reason').value.trim(), dryRun };
  if (action === 'link') {
    Object.assign(body, { accountId: state.accountId, userName: $('r-username').value.trim() });
    if ($('r-external-id').value.trim()) body.externalId = $('r-external-id').value.trim();
    if ($('r-group-path').value.trim()) body.groupPath = $('r-group-path').value.trim();
  } else {
    body.scimId = $('r-identity').value;
    if (action === 'change-external-id') body.externalId = $('r-external-id').value.trim();
  }
  return body;
}
$('remediate-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const body = remediationBody(true);
  load($('remediation'), async () => {
    const plan = await (await api('/api/v1/support/remediations', { method: 'POST', body: JSON.stringify(body) })).json();
    const box = $('remediation');
    if (plan.events.length === 0) {
      box.replaceChildren(el('p', { class: 'empty' }, 'Dry run: nothing would change.'));
      return;
    }
    const confirmBox = el('input', { type: 'checkbox', id: 'r-confirm' });
    const apply = el('button', { type: 'button', class: 'danger', disabled: true }, `Apply ${plan.events.length} change${plan.events.length === 1 ? '' : 's'}`);
    confirmBox.addEventListener('change', () => (apply.disabled = !confirmBox.checked));
    apply.addEventListener('click', () =>
      load(box, async () => {
        const done = await (await api('/api/v1/support/remediations', { method: 'POST', body: JSON.stringify({ ...body, dryRun: false }) })).json();
        box.replaceChildren(el('p', { class: 'ok' }, `Applied: ${done.events.length} event(s) written at revision ${done.revision}, reason recorded.`));
        state.accountId = null;
        await openPerson(done.accountId);
      }),
    );
    box.replaceChildren(
      el('p', {}, el('strong', {}, 'Dry run'), ' — these events would be written (nothing has changed yet):'),
      el('ul', {}, plan.events.map((ev) => el('li', {}, `${ev.type}: `, describe({ type: ev.type, data: ev.data, summary: summarise(ev) })))),
      el('p', {}, el('label', { class: 'inline' }, confirmBox, ` I have checked this; apply it with the reason “${body.reason}”.`)),
      apply,
    );
  });
});
function summarise(ev) {
  const d = ev.data || {};
  if (ev.type === 'ExternIdChanged') return `externalId: ${fmt(d.from)} → ${fmt(d.to)} (SAML NameID ${fmt(d.samlNameIdFrom)} → ${fmt(d.samlNameIdTo)})`;
  if (Array.isArray(d.changes)) return d.changes.map((c) => `${c.path}: ${fmt(c.from)} → ${fmt(c.to)}`).join('; ');
  return Object.entries(d).filter(([k]) => !/Id$/.test(k)).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
}

// ---------- NameID doctor, with a pasted SAML response ----------

function diagnose(nameId) {
  return load($('findings'), async () => {
    const result = await (await api(`/api/v1/support/nameid-diagnosis?nameId=${encodeURIComponent(nameId)}`)).json();
    const good = new Set(['exact_match']);
    $('findings').replaceChildren(...result.findings.map((f) => el('li', { class: `finding ${good.has(f.code) ? '' : 'bad'}` }, el('strong', {}, f.code.replace(/_/g, ' ')), ': ', f.message,
      f.accountId ? [' ', el('a', { href: `#/person/${f.accountId}` }, 'open person')] : '')));
  });
}
$('nameid-form').addEventListener('submit', (e) => {
  e.preventDefault();
  go(`#/nameid?nameId=${encodeURIComponent($('nameid').value.trim())}`);
});
/** The NameID of a pasted SAML response (base64 or XML), read in the browser. */
function nameIdFromSaml(text) {
  let xml = text.trim();
  if (!xml.startsWith('<')) {
    const b64 = decodeURIComponent(xml.replace(/^SAMLResponse=/, '')).replace(/\s+/g, '');
    xml = new TextDecoder().decode(Uint8Array.from(window.atob(b64), (c) => c.charCodeAt(0)));
  }
  const doc = new window.DOMParser().parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) throw new Error('This is not a SAML response: the XML does not parse.');
  const node = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'NameID')[0];
  if (!node) throw new Error('No NameID in this SAML response (is the assertion encrypted?).');
  return { nameId: node.textContent.trim(), format: node.getAttribute('Format') || 'unspecified' };
}
$('saml-form').addEventListener('submit', (e) => {
  e.preventDefault();
  showError('');
  try {
    const { nameId, format } = nameIdFromSaml($('saml').value);
    $('saml-found').replaceChildren('The response carries NameID ', el('code', {}, nameId), ` (format ${format.replace(/^urn:oasis:names:tc:SAML:[\d.]+:nameid-format:/, '')}).`);
    $('nameid').value = nameId;
    go(`#/nameid?nameId=${encodeURIComponent(nameId)}`);
  } catch (err) {
    showError(err.message);
  }
});

// ---------- audit log ----------

function auditParams() {
  const params = new URLSearchParams();
  if ($('since').value) params.set('since', toIso($('since').value));
  if ($('until').value) params.set('until', toIso($('until').value));
  if ($('filter').value.trim()) params.set('filter', $('filter').value.trim());
  if ($('keywords').value.trim()) params.set('q', $('keywords').value.trim());
  if ($('order').value === 'ascending') params.set('sortOrder', 'ascending');
  return params;
}
/** The query sent: without `until` the server treats it as a live feed, so pages end at "now". */
function auditQuery(params) {
  const q = new URLSearchParams(params);
  if (!q.get('until')) q.set('until', new Date(Date.now() + 1000).toISOString());
  if (!q.get('sortOrder')) q.set('sortOrder', 'descending');
  return q;
}
$('audit-form').addEventListener('submit', (e) => {
  e.preventDefault();
  go(`#/audit?${auditParams()}`);
});
function searchAudit() {
  state.auditQuery = auditQuery(auditParams());
  state.auditPages = [null];
  return loadAuditPage();
}
function loadAuditPage() {
  const page = state.auditPages.length;
  return load($('audit-results'), async () => {
    const q = new URLSearchParams(state.auditQuery);
    q.set('limit', '50');
    const cursor = state.auditPages[page - 1];
    if (cursor) q.set('after', cursor);
    const res = await api(`/api/v1/audit/events?${q}`);
    const rows = await res.json();
    const link = res.headers.get('link');
    const next = link ? new URL(/<([^>]+)>/.exec(link)[1]).searchParams.get('after') : null;
    state.nextCursor = rows.length === 50 ? next : null;
    $('audit-next').hidden = !state.nextCursor;
    $('audit-prev').hidden = page <= 1;
    const from = (page - 1) * 50 + 1;
    $('audit-summary').textContent = rows.length === 0
      ? ''
      : `Showing ${from}–${from + rows.length - 1}${state.nextCursor ? ' (more on the next page)' : ` of ${from + rows.length - 1}`}, ${state.auditQuery.get('sortOrder') === 'ascending' ? 'oldest' : 'newest'} first.`;
    const box = $('audit-results');
    if (rows.length === 0) {
      box.replaceChildren(el('p', { class: 'empty' }, 'No audit records match.'));
      return;
    }
    const canOpenPeople = (VIEWS_BY_ROLE[state.session.role] || []).includes('person');
    box.replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, ['Recorded', 'Type', 'Outcome', 'Scope', 'Actor', 'Target', 'Changes'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((r) =>
        el('tr', { class: r.outcome === 'rejected' ? 'rejected' : '' },
          el('td', { class: 'nowrap' }, when(r.recordedAt), el('br'), el('a', { href: `#/event/${r.id}`, class: 'hint', title: `event ${r.id}, position ${r.position}` }, `#${r.position}`)),
          el('td', {}, r.type), el('td', {}, r.outcome), el('td', {}, scopeCell(r.scope)), el('td', {}, actorCell(r.actor)),
          el('td', {}, targetCell(r.target, canOpenPeople)),
          el('td', { class: 'changes' }, (r.changes || []).map((c) => {
            const t = changeText(c);
            return `${t.path}: ${t.from} → ${t.to}`;
          }).join('; ')))))));
  });
}
function targetCell(target, canOpen) {
  if (!target) return '';
  const accountish = /account|user|identity/i.test(target.type);
  const label = `${target.type} ${String(target.id).slice(0, 8)}…`;
  return el('span', {}, accountish && canOpen && /^account$/i.test(target.type) ? el('a', { href: `#/person/${target.id}`, title: `${target.type} ${target.id}` }, label) : el('span', { title: `${target.type} ${target.id}` }, label), copyButton(String(target.id), 'target id'));
}
$('audit-next').addEventListener('click', () => {
  if (!state.nextCursor) return;
  state.auditPages.push(state.nextCursor);
  loadAuditPage();
});
$('audit-prev').addEventListener('click', () => {
  if (state.auditPages.length <= 1) return;
  state.auditPages.pop();
  loadAuditPage();
});

/** Exports what the query shows, every page of it (the server's range export cannot filter). */
async function download(format) {
  const box = $('audit-summary');
  const previous = box.textContent;
  await load(null, async () => {
    const q = auditQuery(auditParams());
    q.set('sortOrder', 'ascending');
    q.set('limit', '1000');
    const rows = [];
    for (let after = null; ;) {
      if (after) q.set('after', after);
      const res = await api(`/api/v1/audit/events?${q}`);
      const page = await res.json();
      rows.push(...page);
      box.textContent = `Exporting… ${rows.length} records`;
      if (page.length < 1000) break;
      after = new URL(/<([^>]+)>/.exec(res.headers.get('link'))[1]).searchParams.get('after');
    }
    const text = format === 'csv' ? toCsv(rows) : rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
    const a = el('a', { href: URL.createObjectURL(new window.Blob([text], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' })), download: `audit.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    box.textContent = `${previous} Exported ${rows.length} record${rows.length === 1 ? '' : 's'} as ${format.toUpperCase()}.`;
  });
}
function toCsv(rows) {
  // Cells a spreadsheet would execute (=, +, -, @) are neutralised with a leading quote.
  const cell = (v) => {
    let s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const header = ['position', 'id', 'recordedAt', 'type', 'outcome', 'scope', 'actorKind', 'actorTokenId', 'targetType', 'targetId', 'correlationId', 'path', 'from', 'to'];
  const lines = [header.join(',')];
  for (const r of rows) {
    const base = [r.position, r.id, r.recordedAt, r.type, r.outcome, r.scope, r.actor?.kind, r.actor?.tokenId, r.target?.type, r.target?.id, r.correlationId];
    const changes = r.changes && r.changes.length ? r.changes : [{}];
    for (const c of changes) lines.push([...base, c.path, c.from, c.to].map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
$('export-ndjson').addEventListener('click', () => download('ndjson'));
$('export-csv').addEventListener('click', () => download('csv'));

async function loadCheckpoints() {
  api('/api/v1/audit/verification').then((r) => r.json()).then((v) => {
    $('verification').replaceChildren(v.ok
      ? el('span', { class: 'ok' }, 'Chain verified ', when(v.checkedAt), `: ${v.events} events in ${v.scopes} scopes, ${v.checkpoints} signed checkpoints — intact.`)
      : el('span', { class: 'rejected' }, `Verification FAILED: ${v.problem}${v.record ? ` (first bad record: ${v.record})` : ''}`));
  }).catch(() => undefined);
  const checkpoints = await api('/api/v1/audit/checkpoints').then((r) => r.json()).catch(() => null);
  if (!checkpoints) return;
  $('checkpoints').replaceChildren(
    checkpoints.length === 0
      ? el('p', { class: 'empty' }, 'No checkpoint signed yet.')
      : el('table', {},
          el('thead', {}, el('tr', {}, ['Scope', 'Position', 'Events', 'Head hash', 'Signed', 'Key'].map((h) => el('th', {}, h)))),
          el('tbody', {}, checkpoints.slice().reverse().map((c) => el('tr', {}, el('td', {}, scopeCell(c.scope)), el('td', {}, c.position), el('td', {}, c.count),
            el('td', {}, el('span', { class: 'id', title: c.headHash }, `${c.headHash.slice(0, 16)}…`), copyButton(c.headHash, 'head hash')), el('td', { class: 'nowrap' }, when(c.time)), el('td', { class: 'id' }, c.keyId))))),
  );
}

// ---------- provisioning health: per scope and SCIM token, requests and refusals over time ----------

/** What to do about a refusal that keeps coming back, by the server's reason code (`uniqueness_userName` → uniqueness). */
const LOOP_FIXES = {
  uniqueness: (l) => `The IdP sends a ${l.attribute || 'value'} another identity in this scope already holds. Correct the user in the IdP, or link or unlink the identity on the person's page (support or admin).`,
  conflict: () => 'Concurrent writes collide; usually clears by itself. If it repeats, look for two IdP connections writing the same person.',
  invalid_value: (l) => `The IdP sends a value the server refuses${l.attribute ? ` for ${l.attribute}` : ''}; fix the attribute mapping in the IdP.`,
  invalidValue: (l) => `The IdP sends a value the server refuses${l.attribute ? ` for ${l.attribute}` : ''}; fix the attribute mapping in the IdP.`,
  invalidSyntax: () => 'The IdP sends a request the server cannot read; check the connector version and attribute mapping.',
  mutability: (l) => `The IdP changes ${l.attribute || 'an attribute'} the server does not let it change; remove it from the IdP's update mapping.`,
  not_found: () => 'The IdP updates a user the server no longer has; re-push the user from the IdP, or reactivate the identity.',
  last_owner: () => 'The change would leave a group without an owner; give the group another owner first.',
};
function loopFix(loop) {
  const key = Object.keys(LOOP_FIXES).find((k) => loop.reason === k || loop.reason.startsWith(`${k}_`));
  return key ? LOOP_FIXES[key](loop) : 'Look at the refused requests in the audit log and fix the cause in the IdP.';
}
$('health-form').addEventListener('submit', (e) => {
  e.preventDefault();
  go(`#/health?hours=${$('health-window').value}`);
});
$('health-window').addEventListener('change', () => go(`#/health?hours=${$('health-window').value}`));

function loadHealth(hours) {
  $('health-summary').textContent = '';
  return load($('health'), async () => {
    const until = new Date();
    const since = new Date(until.getTime() - hours * 3600_000);
    const buckets = hours === 1 ? 60 : hours === 24 ? 48 : hours === 168 ? 84 : 60;
    const h = await (await api(`/api/v1/audit/health?${new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), buckets: String(buckets) })}`)).json();
    const box = $('health');
    const totalRequests = h.sources.reduce((a, s) => a + s.totalRequests, 0);
    const totalRefusals = h.sources.reduce((a, s) => a + s.totalRefusals, 0);
    $('health-summary').replaceChildren(`${totalRequests} SCIM request${totalRequests === 1 ? '' : 's'}, ${totalRefusals} refused, from `, when(h.since, false), ' to ', when(h.until, false),
      el('span', { class: 'hint' }, ` (bars of ${bucketLabel(h.bucketSeconds)})`), '.');
    if (h.sources.length === 0) {
      box.replaceChildren(el('p', { class: 'empty' }, 'No SCIM requests in this window. Pick a longer window, or check that the IdP is pushing to this server.'));
      return;
    }
    const canOpenPeople = (VIEWS_BY_ROLE[state.session.role] || []).includes('person');
    const sources = h.sources.slice().sort((a, b) => b.totalRefusals - a.totalRefusals || b.totalRequests - a.totalRequests);
    box.replaceChildren(
      el('h3', {}, 'Retry loops ', el('span', { class: 'hint' }, `(the same refused request ${h.loopThreshold} times or more)`)),
      h.loops.length === 0 ? el('p', { class: 'empty' }, 'No retry loops: no refused request came back.') : el('div', { class: 'scroll' }, el('table', { id: 'health-loops' },
        el('thead', {}, el('tr', {}, ['Source', 'Request', 'Refused', 'Times', 'Last seen', 'Person', 'Fix'].map((x) => el('th', {}, x)))),
        el('tbody', {}, h.loops.map((l) => el('tr', {},
          el('td', {}, sourceName(l.scope, l.scopeName, l.tokenId, tokenNameOf(h, l))),
          el('td', { class: 'nowrap' }, `${l.method} /${l.resource}`),
          el('td', { class: 'rejected' }, l.reason, l.attribute && !l.reason.endsWith(l.attribute) ? ` (${l.attribute})` : ''),
          el('td', {}, String(l.count)),
          el('td', { class: 'nowrap' }, when(l.last), el('br'), el('span', { class: 'hint' }, 'first ', el('time', { datetime: l.first, title: `${timeFormat.format(new Date(l.first))} (${l.first} UTC)` }, relative(l.first)))),
          el('td', { class: 'nowrap' }, personCell(l, canOpenPeople)),
          el('td', { class: 'hint fix' }, loopFix(l))))))),
      el('h3', {}, 'Per source'),
      el('div', { class: 'sources' }, sources.map((s) => el('section', { class: 'source', 'aria-label': `${healthScope(s.scope, s.scopeName)}, ${s.tokenName || 'unnamed token'}` },
        el('h3', {}, sourceName(s.scope, s.scopeName, s.tokenId, s.tokenName)),
        el('p', { class: 'hint' }, `${s.totalRequests} request${s.totalRequests === 1 ? '' : 's'}, `, el('span', { class: s.totalRefusals ? 'rejected' : 'ok' }, `${s.totalRefusals} refused`),
          s.totalRequests ? ` (${Math.round((100 * s.totalRefusals) / s.totalRequests)}%)` : ''),
        chart(s, h),
        el('p', { class: 'legend' }, el('span', {}, el('span', { class: 'swatch requests' }), 'requests'), el('span', {}, el('span', { class: 'swatch refusals' }), 'refused')),
        s.reasons.length === 0 ? el('p', { class: 'empty' }, 'No refusals.') : el('table', {},
          el('thead', {}, el('tr', {}, ['Top refusal reasons', 'Status', 'Count'].map((x) => el('th', {}, x)))),
          el('tbody', {}, s.reasons.map((r) => el('tr', {}, el('td', {}, r.reason), el('td', {}, String(r.status)), el('td', {}, String(r.count))))))))),
    );
  });
}
function bucketLabel(seconds) {
  return seconds >= 3600 ? `${+(seconds / 3600).toFixed(1)} h` : seconds >= 60 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}
function tokenNameOf(h, loop) {
  return h.sources.find((s) => s.scope === loop.scope && s.tokenId === loop.tokenId)?.tokenName ?? null;
}
/** The server names group scopes by path; the instance scope reads as elsewhere in the console. */
function healthScope(scope, serverName) {
  return scope.startsWith('group:') ? serverName : scopeName(scope);
}
function sourceName(scope, serverName, tokenId, tokenName) {
  const token = tokenId ? named(tokenName || `unnamed token ${tokenId.slice(0, 8)}…`, tokenId, 'token id') : el('span', { class: 'hint' }, 'no token');
  return el('span', {}, healthScope(scope, serverName), ' · ', token);
}
function personCell(loop, canOpen) {
  if (!loop.accountId) return el('span', { class: 'hint', title: `target ${loop.targetId}` }, 'unknown');
  // Auditors have no person view: their link is the audit trail of that account instead.
  const href = canOpen ? `#/person/${loop.accountId}` : `#/audit?${new URLSearchParams({ filter: `target.id eq "${loop.accountId}"` })}`;
  return el('span', {}, el('a', { href, title: `account ${loop.accountId}` }, canOpen ? 'Open person' : 'Audit trail'), copyButton(loop.accountId, 'account id'));
}
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
/**
 * Requests and refusals per bucket as overlaid bars, in hand-written SVG: two series and a time
 * axis do not earn a charting library, and CSS variables colour it for dark mode.
 */
function chart(source, h) {
  const W = 600, H = 140, left = 34, bottom = 20, top = 8;
  const n = source.requests.length;
  const max = Math.max(1, ...source.requests, ...source.refusals);
  const plotH = H - bottom - top;
  const bw = (W - left) / n;
  const bucketStart = (i) => new Date(Date.parse(h.since) + i * h.bucketSeconds * 1000).toISOString();
  const bars = [];
  for (let i = 0; i < n; i++) {
    const req = source.requests[i], ref = source.refusals[i];
    if (!req && !ref) continue;
    const x = left + i * bw + bw * 0.1, w = Math.max(1, bw * 0.8);
    // At least 2px tall so one request in a busy window still shows.
    const hReq = Math.max(req ? 2 : 0, (req / max) * plotH), hRef = Math.max(ref ? 2 : 0, (ref / max) * plotH);
    bars.push(svg('g', { class: 'bucket' },
      svg('title', {}, `${timeFormat.format(new Date(bucketStart(i)))}: ${req} request${req === 1 ? '' : 's'}, ${ref} refused`),
      svg('rect', { class: 'requests', x, y: top + plotH - hReq, width: w, height: hReq }),
      ref ? svg('rect', { class: 'refusals', x, y: top + plotH - hRef, width: w, height: hRef }) : null));
  }
  const short = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Requests and refusals over time: ${source.totalRequests} requests, ${source.totalRefusals} refused` },
    svg('line', { class: 'axis', x1: left, y1: top + plotH, x2: W, y2: top + plotH }),
    svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: top + plotH }),
    svg('text', { x: left - 4, y: top + 9, 'text-anchor': 'end' }, String(max)),
    svg('text', { x: left - 4, y: top + plotH, 'text-anchor': 'end' }, '0'),
    svg('text', { x: left, y: H - 4 }, short.format(new Date(h.since))),
    svg('text', { x: W, y: H - 4, 'text-anchor': 'end' }, short.format(new Date(h.until))),
    bars);
}

// ---------- SCIM event streams: every scope's SSF streams, their delivery health, pause/enable/disable ----------

const PUSH = 'urn:ietf:rfc:8935';
const STATUS_ACTIONS = [
  { status: 'paused', label: 'Pause', title: 'Hold new SETs until the stream is enabled again (none are lost)' },
  { status: 'enabled', label: 'Enable', title: 'Deliver again, starting with the SETs held while paused' },
  { status: 'disabled', label: 'Disable…', title: 'Stop delivering and drop the SETs of the time it stays disabled', confirm: true },
];
$('streams-form').addEventListener('submit', (e) => {
  e.preventDefault();
  go(streamsHash());
});
$('streams-show').addEventListener('change', () => go(streamsHash()));
function streamsHash() {
  return $('streams-show').value === 'attention' ? '#/streams?show=attention' : '#/streams';
}
/** A stream an operator should look at: failing, retrying, behind, or not delivering at all. */
function needsAttention(s) {
  const h = s.delivery_health;
  return h.failing || h.attempts > 0 || h.lag > 0 || s.status !== 'enabled';
}
/** The scope's SSF status endpoint, which the admin token may call for any scope (StreamsAuthGuard). */
function statusEndpoint(scope) {
  const m = /^group:(.+)$/.exec(scope);
  if (!m) return '/api/scim/v2/application/ssf/status';
  const path = state.groups.get(m[1]);
  return path ? `/api/scim/v2/groups/${encodeURIComponent(path)}/ssf/status` : null;
}

function loadStreams(notice) {
  $('streams-summary').textContent = '';
  return load($('streams'), async () => {
    const all = await (await api('/api/v1/ssf/streams')).json();
    const attention = all.filter(needsAttention);
    const failing = all.filter((s) => s.delivery_health.failing).length;
    const count = (status) => all.filter((s) => s.status === status).length;
    $('streams-summary').replaceChildren(
      `${all.length} stream${all.length === 1 ? '' : 's'}: ${count('enabled')} enabled, ${count('paused')} paused, ${count('disabled')} disabled`,
      failing ? el('span', { class: 'rejected' }, `, ${failing} failing`) : '',
      '.', notice ? el('span', { class: 'ok', role: 'status' }, ` ${notice}`) : '');
    const rows = ($('streams-show').value === 'attention' ? attention : all).slice()
      // Failing first, then the ones behind, then the rest; oldest first within each.
      .sort((a, b) => rank(b) - rank(a) || String(a.created_at).localeCompare(String(b.created_at)));
    const box = $('streams');
    if (rows.length === 0) {
      box.replaceChildren(el('p', { class: 'empty' }, all.length === 0
        ? 'No SCIM event streams yet. A receiver registers one with POST <SCIM base>/ssf/stream (see the README, “Receive SCIM events”).'
        : 'Every stream is enabled, caught up and delivering: nothing needs attention.'));
      return;
    }
    const canChange = state.session.role === 'admin';
    box.replaceChildren(el('div', { class: 'scroll' }, el('table', { id: 'streams-table' },
      el('thead', {}, el('tr', {}, ['Stream', 'Scope', 'Delivery', 'Status', 'Lag', 'Last delivery', 'Failures and last error', canChange ? 'Actions' : null].filter(Boolean).map((x) => el('th', {}, x)))),
      el('tbody', {}, rows.map((s) => streamRow(s, canChange))))));
  });
}
function rank(s) {
  const h = s.delivery_health;
  return (h.failing ? 4 : 0) + (h.attempts > 0 ? 2 : 0) + (h.lag > 0 ? 1 : 0);
}
function streamRow(s, canChange) {
  const h = s.delivery_health;
  const push = s.delivery.method === PUSH;
  const name = s.description || `stream ${s.stream_id.slice(0, 8)}…`;
  return el('tr', { class: h.failing ? 'failing' : '', 'data-stream': s.stream_id, 'aria-label': name },
    el('td', { class: 'stream' }, el('strong', { title: `stream id: ${s.stream_id}` }, name), copyButton(s.stream_id, 'stream id'),
      el('br'), el('span', { class: 'hint', title: 'audience (aud)' }, 'aud ', breakable(s.aud))),
    el('td', {}, scopeCell(s.scope)),
    el('td', { class: 'endpoint' }, el('span', { class: `badge ${push ? 'push' : 'poll'}`, title: s.delivery.method }, push ? 'push' : 'poll'),
      ' ', el('span', { class: 'hint' }, push ? 'to' : 'receiver polls'), el('br'), el('span', { class: 'id' }, breakable(s.delivery.endpoint_url || ''))),
    el('td', {}, el('span', { class: `badge status-${s.status}` }, s.status),
      h.failing ? [' ', el('span', { class: 'badge failing' }, 'failing'), el('br'), el('span', { class: 'hint' }, 'since ', el('time', { datetime: h.failing_since, title: `${timeFormat.format(new Date(h.failing_since))} (${h.failing_since} UTC)` }, relative(h.failing_since)))] : ''),
    el('td', { title: `newest SET of the scope ${h.head ?? 'none'}, settled ${h.settled ?? 'none'} (log positions)` },
      h.head === null ? el('span', { class: 'hint' }, 'no SETs yet')
      : h.lag === 0 ? el('span', { class: 'ok' }, 'caught up')
      : el('span', { class: h.failing || s.status !== 'enabled' ? 'rejected' : '' }, `${h.lag} position${h.lag === 1 ? '' : 's'} behind`)),
    el('td', {}, h.last_delivery_at ? when(h.last_delivery_at) : el('span', { class: 'empty' }, 'never')),
    el('td', { class: 'error-text' }, h.attempts > 0 ? el('strong', { class: 'rejected' }, `${h.attempts} failed attempt${h.attempts === 1 ? '' : 's'}`) : el('span', { class: 'hint' }, 'none'),
      h.last_error ? [el('br'), el('span', { class: 'rejected', title: 'last error' }, h.last_error)] : ''),
    canChange ? el('td', { class: 'nowrap actions' }, STATUS_ACTIONS.filter((a) => a.status !== s.status).map((a) =>
      el('button', { type: 'button', class: a.status === 'disabled' ? 'small danger' : 'small', title: a.title, 'aria-label': `${a.label.replace('…', '')} ${name}`, onclick: (e) => changeStatus(s, a, name, e.currentTarget.closest('td')) }, a.label))) : null);
}
async function changeStatus(stream, action, name, cell) {
  if (action.confirm && !window.confirm(`Disable ${name}? SETs of the time it stays disabled are dropped, never delivered.`)) return;
  // One change at a time per stream: a second click while the first is on its way would race it.
  for (const b of cell.querySelectorAll('button')) b.disabled = true;
  const endpoint = statusEndpoint(stream.scope);
  if (!endpoint) {
    showError(`The group of scope ${stream.scope} is not known to this console; reload and try again.`);
    return;
  }
  await load(null, async () => {
    await api(endpoint, { method: 'POST', body: JSON.stringify({ stream_id: stream.stream_id, status: action.status, reason: 'changed in the support console' }) });
    await loadStreams(`${name} is now ${action.status}.`);
  });
  for (const b of cell.querySelectorAll('button')) b.disabled = false;
}

$('error').tabIndex = -1;
if (state.token) {
  signIn(state.token).catch((err) => {
    signOut(false);
    showError(err.message);
  });
}
