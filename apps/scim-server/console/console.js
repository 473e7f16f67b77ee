// The support and audit console: plain browser JavaScript over the management API, so the
// server serves it as static files with no build step and no CDN at run time.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem('scim-console-token') || '', next: null, accountId: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return node;
}

async function api(path, options = {}) {
  $('error').textContent = '';
  const res = await fetch(path, { ...options, headers: { authorization: `Bearer ${state.token}`, ...(options.headers || {}) } });
  if (!res.ok) {
    let detail = `${res.status}`;
    try {
      detail = (await res.json()).detail || detail;
    } catch {
      // not a JSON error body: keep the status
    }
    const message = res.status === 401 ? 'The token is not valid (any more).' : res.status === 403 ? `This token's role may not do that: ${detail}` : `Request failed: ${detail}`;
    $('error').textContent = message;
    throw new Error(message);
  }
  return res;
}

function toIso(local) {
  return local ? new Date(local).toISOString() : undefined;
}

function show(view) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${view}`;
  for (const b of document.querySelectorAll('#tabs [data-view]')) b.setAttribute('aria-pressed', String(b.dataset.view === view));
}

function signedIn() {
  $('signin').hidden = true;
  $('tabs').hidden = false;
  $('who').textContent = 'Signed in.';
  show('person');
  loadCheckpoints().catch(() => undefined);
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  state.token = $('token').value.trim();
  try {
    await api('/api/v1/projections');
    sessionStorage.setItem('scim-console-token', state.token);
    signedIn();
  } catch {
    state.token = '';
  }
});
$('signout').addEventListener('click', () => {
  sessionStorage.removeItem('scim-console-token');
  location.reload();
});
for (const b of document.querySelectorAll('#tabs [data-view]')) b.addEventListener('click', () => show(b.dataset.view));

// Person: search, timeline, state at a moment
$('search-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const params = new URLSearchParams({ q: $('q').value });
  if ($('q-at').value) params.set('at', toIso($('q-at').value));
  const result = await (await api(`/api/v1/support/search?${params}`)).json();
  const box = $('search-results');
  box.replaceChildren();
  if (result.accounts.length === 0) {
    box.append(el('p', {}, 'Nobody held this identifier', result.at ? ` at ${result.at}` : '', '.'));
    return;
  }
  box.append(
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Kind'), el('th', {}, 'Value'), el('th', {}, 'Held from'), el('th', {}, 'until'), el('th', {}, 'Account'))),
      el('tbody', {}, result.matches.map((m) =>
        el('tr', {}, el('td', {}, m.kind), el('td', {}, m.value), el('td', {}, m.from), el('td', {}, m.to || 'now'),
          el('td', {}, el('button', { type: 'button', onclick: () => openPerson(m.accountId) }, `Open ${m.accountId.slice(0, 8)}…`)))))),
  );
});

async function openPerson(accountId) {
  state.accountId = accountId;
  $('person').hidden = false;
  $('account-id').textContent = accountId;
  const { entries } = await (await api(`/api/v1/support/accounts/${accountId}/timeline`)).json();
  // One request can cause several events: group them under it.
  const byRequest = new Map();
  for (const entry of entries) {
    const key = entry.requestId || entry.position;
    if (!byRequest.has(key)) byRequest.set(key, []);
    byRequest.get(key).push(entry);
  }
  const box = $('timeline');
  box.replaceChildren();
  for (const [requestId, group] of byRequest) {
    const first = group[0];
    const actor = first.actor ? `${first.actor.kind}${first.actor.tokenId ? ` (token ${String(first.actor.tokenId).slice(0, 8)})` : ''}` : '';
    box.append(
      el('details', { open: '' },
        el('summary', { class: group.some((g) => g.outcome === 'rejected') ? 'rejected' : '' },
          `${first.recordedAt} — ${group.map((g) => g.type).join(', ')} — ${actor}${first.idp ? ` via ${first.idp}` : ''} — scope ${first.scope || 'instance'}`),
        el('p', { class: 'hint' }, `request ${requestId}`),
        el('ul', {}, group.map((g) => el('li', { class: g.outcome === 'rejected' ? 'rejected' : '' }, `${g.type}: ${g.summary}`))),
      ),
    );
  }
}

$('state-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const at = toIso($('state-at').value);
  const then = await (await api(`/api/v1/support/accounts/${state.accountId}/state?at=${encodeURIComponent(at)}`)).json();
  const diff = await (await api(`/api/v1/support/accounts/${state.accountId}/diff?fromAt=${encodeURIComponent(at)}&toAt=${encodeURIComponent(new Date().toISOString())}`)).json();
  const identities = Object.values(then.state.identities || {});
  $('state').replaceChildren(
    el('p', {}, `At ${at}: account ${then.state.username || '(not yet created)'}, ${then.state.blocked ? 'blocked' : 'active'}, revision ${then.revision}.`),
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Identity'), el('th', {}, 'Scope'), el('th', {}, 'userName'), el('th', {}, 'externalId / NameID'), el('th', {}, 'Active'), el('th', {}, 'externalId set by'))),
      el('tbody', {}, identities.map((i) => {
        const origin = then.setBy[`identities.${i.id}.externalId`];
        return el('tr', {}, el('td', {}, i.id.slice(0, 8) + '…'), el('td', {}, i.scope), el('td', {}, i.userName), el('td', {}, `${i.externalId || '–'} / ${i.samlNameId}`),
          el('td', {}, i.deleted ? 'deleted' : i.active ? 'yes' : 'no'), el('td', {}, origin ? `${origin.type} at ${origin.at}` : '–'));
      })),
    ),
    el('h4', {}, 'Changed since then'),
    diff.changes.length === 0
      ? el('p', {}, 'Nothing.')
      : el('table', { class: 'diff' },
          el('thead', {}, el('tr', {}, el('th', {}, 'Field'), el('th', {}, 'Then'), el('th', {}, 'Now'))),
          el('tbody', {}, diff.changes.map((c) => el('tr', {}, el('td', {}, c.path), el('td', {}, JSON.stringify(c.from ?? null)), el('td', {}, JSON.stringify(c.to ?? null)))))),
  );
});

// NameID diagnosis
$('nameid-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const result = await (await api(`/api/v1/support/nameid-diagnosis?nameId=${encodeURIComponent($('nameid').value)}`)).json();
  const good = new Set(['exact_match']);
  $('findings').replaceChildren(...result.findings.map((f) => el('li', { class: `finding ${good.has(f.code) ? '' : 'bad'}` }, el('strong', {}, f.code.replace(/_/g, ' ')), ': ', f.message)));
});

// Audit log
function auditParams() {
  const params = new URLSearchParams({ limit: '50' });
  if ($('since').value) params.set('since', toIso($('since').value));
  params.set('until', $('until').value ? toIso($('until').value) : new Date(Date.now() + 60_000).toISOString());
  if ($('filter').value) params.set('filter', $('filter').value);
  return params;
}

async function loadAudit(url) {
  const res = await api(url);
  const rows = await res.json();
  const link = res.headers.get('link');
  state.next = link ? /<([^>]+)>/.exec(link)[1] : null;
  $('audit-next').hidden = !state.next;
  $('audit-results').replaceChildren(
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'Position'), el('th', {}, 'Recorded'), el('th', {}, 'Type'), el('th', {}, 'Scope'), el('th', {}, 'Actor'), el('th', {}, 'Target'), el('th', {}, 'Changes'))),
      el('tbody', {}, rows.map((r) =>
        el('tr', { class: r.outcome === 'rejected' ? 'rejected' : '' }, el('td', {}, r.position), el('td', {}, r.recordedAt), el('td', {}, r.type), el('td', {}, r.scope),
          el('td', {}, r.actor ? r.actor.kind : ''), el('td', {}, `${r.target.type} ${r.target.id.slice(0, 8)}…`),
          el('td', {}, r.changes.map((c) => `${c.path}: ${JSON.stringify(c.from ?? null)} → ${JSON.stringify(c.to ?? null)}`).join('; '))))),
    ),
  );
}

$('audit-form').addEventListener('submit', (e) => {
  e.preventDefault();
  loadAudit(`/api/v1/audit/events?${auditParams()}`).catch(() => undefined);
});
$('audit-next').addEventListener('click', () => state.next && loadAudit(state.next.replace(/^https?:\/\/[^/]+/, '')).catch(() => undefined));

async function download(format) {
  const params = auditParams();
  params.delete('limit');
  params.delete('filter');
  const blob = await (await api(`/api/v1/audit/export?format=${format}&${params}`)).blob();
  const a = el('a', { href: URL.createObjectURL(blob), download: `audit.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
}
$('export-ndjson').addEventListener('click', () => download('ndjson').catch(() => undefined));
$('export-csv').addEventListener('click', () => download('csv').catch(() => undefined));

async function loadVerification() {
  const v = await (await api('/api/v1/audit/verification')).json();
  $('verification').textContent = v.ok
    ? `Chain verified at ${v.checkedAt}: ${v.events} events in ${v.scopes} scopes, ${v.checkpoints} signed checkpoints — intact.`
    : `Verification FAILED: ${v.problem}${v.record ? ` (first bad record: ${v.record})` : ''}`;
  $('verification').className = v.ok ? '' : 'rejected';
}

async function loadCheckpoints() {
  loadVerification().catch(() => undefined);
  const checkpoints = await (await api('/api/v1/audit/checkpoints')).json();
  $('checkpoints').replaceChildren(
    checkpoints.length === 0
      ? el('p', {}, 'No checkpoint signed yet.')
      : el('table', {},
          el('thead', {}, el('tr', {}, el('th', {}, 'Scope'), el('th', {}, 'Position'), el('th', {}, 'Events'), el('th', {}, 'Head hash'), el('th', {}, 'Signed at'), el('th', {}, 'Key'))),
          el('tbody', {}, checkpoints.map((c) => el('tr', {}, el('td', {}, c.scope), el('td', {}, c.position), el('td', {}, c.count), el('td', {}, `${c.headHash.slice(0, 16)}…`), el('td', {}, c.time), el('td', {}, c.keyId))))),
    el('p', { class: 'hint' }, 'Verify an exported bundle offline with: scimctl audit verify <bundle>'),
  );
}

if (state.token) signedIn();
