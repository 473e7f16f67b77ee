#!/usr/bin/env node
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Verdict, verifyBundleSource } from '@app/audit/domain';
import { ApiClient } from './api-client';
import { directoryBundle, exportBundle, noProgress, stderrProgress } from './audit-bundle';
import { classify, CliFailure, EXIT, UsageError } from './exit-codes';
import { bashCompletion, commandHelp, COMMANDS, globalHelp, GROUPS, groupHelp } from './help';
import { record, table } from './output';
import { Progress } from './progress';
import { withRebuildProgress } from './rebuild-progress';

/** The files of a bundle: an --out directory holding any of them already holds a bundle. */
const BUNDLE_FILES = ['manifest.json', 'events.ndjson', 'events.csv', 'checkpoints.ndjson', 'public-keys.json'];

/**
 * node:util's parseArgs rather than a CLI framework: flat sub-commands and a handful of flags
 * do not need a dependency.
 */
/** Where the CLI talks to, for the "cannot reach" message. */
let serverUrl: string | undefined;
/** An `--out` directory this run created: removed again if the export fails, so no empty bundle stays behind. */
let createdOut: string | undefined;

function parse(argv: string[]) {
  try {
    return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      out: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      at: { type: 'string' },
      revision: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      'expires-at': { type: 'string' },
      pii: { type: 'boolean', default: false },
      scope: { type: 'string' },
      'group-path': { type: 'string' },
      path: { type: 'string' },
      'parent-path': { type: 'string' },
      'default-role': { type: 'string' },
      'verified-domain': { type: 'string', multiple: true },
      'saml-group': { type: 'string' },
      'access-level': { type: 'string' },
      key: { type: 'string', multiple: true },
      'allow-unsigned-tail': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      reason: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  } catch (err) {
    // Unknown flags, a missing flag value: node:util says which, in one line.
    throw new UsageError((err as Error).message);
  }
}

interface StreamRow {
  stream_id: string;
  aud: string;
  delivery: { method: string; endpoint_url: string | null };
  events_delivered: string[];
}
interface StreamStatusRow {
  status: string;
  delivery_health: { failing: boolean; failing_since?: string; last_error: string | null; head: string | null; settled: string | null };
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parse(argv);
  const [area, command, arg] = positionals;
  if (!area) {
    process.stdout.write(`${globalHelp()}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (!(area in GROUPS)) throw new UsageError(`unknown command group "${area}"; groups: ${Object.keys(GROUPS).join(', ')}`);
  // `scimctl users` and `scimctl users --help`: the group's commands, not an "unknown command".
  if (!command || (values.help && !COMMANDS.some((c) => c.group === area && c.name === command))) {
    process.stdout.write(`${groupHelp(area)}\n`);
    return values.help || !command ? EXIT.ok : EXIT.usage;
  }
  if (!COMMANDS.some((c) => c.group === area && c.name === command)) {
    throw new UsageError(`unknown command "${area} ${command}"; see scimctl ${area} --help`);
  }
  if (values.help) {
    process.stdout.write(`${commandHelp(area, command)}\n`);
    return EXIT.ok;
  }
  if (area === 'completion') {
    process.stdout.write(bashCompletion());
    return EXIT.ok;
  }
  /** `--json`: the server's JSON, one line; otherwise the human rendering (a table where there are rows). */
  const print = (v: unknown, human: (v: never) => string) => {
    process.stdout.write(`${values.json ? JSON.stringify(v) : human(v as never)}\n`);
  };

  if (area === 'audit' && command === 'verify') {
    if (!arg) throw new UsageError('audit verify needs a bundle directory');
    if (!existsSync(arg) || !statSync(arg).isDirectory()) throw new UsageError(`${arg} is not a bundle directory`);
    // A --key that names a file is a PEM public key; anything else a fingerprint.
    const pinned = (values.key ?? []).map((k) => (existsSync(k) ? readFileSync(k, 'utf8') : k));
    let bar: Progress | undefined;
    const verdict = await verifyBundleSource(directoryBundle(arg), {
      pinned,
      allowUnsignedTail: values['allow-unsigned-tail'],
      progress: values.quiet
        ? undefined
        : ({ events, total }) => {
            bar ??= new Progress('verifying events.ndjson', total, 'events');
            bar.update(events);
          },
    });
    bar?.finish(verdict.events);
    print(verdict, (v: Verdict) => report(v, values.verbose));
    return verdict.ok ? EXIT.ok : EXIT.notFound;
  }

  const url = values.url ?? process.env.SCIMCTL_URL;
  const token = values.token ?? process.env.SCIMCTL_TOKEN;
  if (!url || !token) throw new UsageError('--url and --token (or SCIMCTL_URL and SCIMCTL_TOKEN) are required');
  serverUrl = url;
  const api = new ApiClient(url, token);
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new UsageError(`${area} ${command} needs ${what}`);
    return v;
  };
  const q = (o: Record<string, string | undefined>) => {
    const s = new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined) as [string, string][]).toString();
    return s ? `?${s}` : '';
  };

  if (area === 'audit' && command === 'export') guardOut(values.out);

  switch (`${area} ${command ?? ''}`.trim()) {
    case 'tokens create': {
      const created = await api.call<Record<string, unknown>>('POST', '/api/v1/tokens', { role: need(values.role, '--role'), ...(values.name ? { name: values.name } : {}), ...(values['expires-at'] ? { expiresAt: values['expires-at'] } : {}), ...(values.pii ? { pii: true } : {}) });
      print(created, (t: typeof created) => `${record(t)}\n(the token is shown once; it is stored only as a hash)`);
      return EXIT.ok;
    }
    case 'tokens list':
      print(await api.call('GET', '/api/v1/tokens'), (ts: TokenRow[]) =>
        table(ts, [
          { header: 'id', value: (t) => t.id },
          { header: 'role', value: (t) => `${t.role}${t.pii ? ' (pii)' : ''}` },
          { header: 'name', value: (t) => t.name },
          { header: 'created', value: (t) => t.createdAt },
          { header: 'expires', value: (t) => t.expiresAt },
          { header: 'state', value: (t) => tokenState(t) },
        ]),
      );
      return EXIT.ok;
    case 'tokens revoke':
      await api.call('DELETE', `/api/v1/tokens/${encodeURIComponent(need(arg, 'an id'))}`);
      print({ revoked: arg }, () => `revoked ${arg}`);
      return EXIT.ok;
    case 'scim-tokens create': {
      const created = await api.call<Record<string, unknown>>('POST', '/api/v1/scim/tokens', { scope: need(values.scope, '--scope'), ...(values['group-path'] ? { groupPath: values['group-path'] } : {}), ...(values.name ? { name: values.name } : {}), ...(values['expires-at'] ? { expiresAt: values['expires-at'] } : {}) });
      print(created, (t: typeof created) => `${record(t)}\n(give the IdP the URL and the token; the token is shown once)`);
      return EXIT.ok;
    }
    case 'scim-tokens list': {
      const tokens = await api.call<TokenRow[]>('GET', '/api/v1/scim/tokens');
      // Scopes are `group:<uuid>`: people read group paths.
      const paths = values.json ? new Map<string, string>() : new Map((await api.call<GroupRow[]>('GET', '/api/v1/groups')).map((g) => [`group:${g.id}`, g.fullPath]));
      print(tokens, (ts: TokenRow[]) =>
        table(ts, [
          { header: 'id', value: (t) => t.id },
          { header: 'scope', value: (t) => paths.get(t.scope ?? '') ?? t.scope },
          { header: 'name', value: (t) => t.name },
          { header: 'created', value: (t) => t.createdAt },
          { header: 'expires', value: (t) => t.expiresAt },
          { header: 'state', value: (t) => tokenState(t) },
        ]),
      );
      return EXIT.ok;
    }
    case 'scim-tokens revoke':
      await api.call('DELETE', `/api/v1/scim/tokens/${encodeURIComponent(need(arg, 'an id'))}`);
      print({ revoked: arg }, () => `revoked ${arg}`);
      return EXIT.ok;
    case 'groups create': {
      const group = await api.call<GroupRow>('POST', '/api/v1/groups', {
        path: need(values.path, '--path'),
        name: need(values.name, '--name'),
        ...(values['parent-path'] ? { parentPath: values['parent-path'] } : {}),
        ...(values['default-role'] ? { defaultMembershipRole: values['default-role'] } : {}),
        ...(values['verified-domain'] ? { verifiedDomains: values['verified-domain'] } : {}),
      });
      print(group, (g: GroupRow) => record({ id: g.id, 'full path': g.fullPath, name: g.name, 'default role': g.defaultMembershipRole, 'verified domains': g.verifiedDomains?.join(', ') }));
      return EXIT.ok;
    }
    case 'streams list':
    case 'streams status': {
      // SSF endpoints of the scope, with the admin token (see StreamsAuthGuard).
      const base = values['group-path'] ? `/api/scim/v2/groups/${encodeURIComponent(values['group-path'])}/ssf` : '/api/scim/v2/application/ssf';
      const ids = command === 'status' ? [need(arg, 'a stream id')] : (await api.call<StreamRow[]>('GET', `${base}/stream`)).map((s) => s.stream_id);
      const rows: (StreamRow & StreamStatusRow)[] = [];
      for (const id of ids) {
        const [config, status] = await Promise.all([api.call<StreamRow>('GET', `${base}/stream${q({ stream_id: id })}`), api.call<StreamStatusRow>('GET', `${base}/status${q({ stream_id: id })}`)]);
        rows.push({ ...config, ...status });
      }
      const health = (r: StreamStatusRow) => r.delivery_health;
      if (command === 'status') {
        print(rows[0], (r: StreamRow & StreamStatusRow) =>
          record({ id: r.stream_id, method: r.delivery.method, endpoint: r.delivery.endpoint_url, audience: r.aud, status: r.status, failing: health(r).failing ? `since ${health(r).failing_since}` : 'no', 'last error': health(r).last_error ?? '', 'newest SET': health(r).head ?? '', settled: health(r).settled ?? '', events: r.events_delivered.join(' ') }),
        );
      } else {
        print(rows, (rs: (StreamRow & StreamStatusRow)[]) =>
          table(rs, [
            { header: 'id', value: (r) => r.stream_id },
            { header: 'method', value: (r) => (r.delivery.method.endsWith('8935') ? 'push' : 'poll') },
            { header: 'status', value: (r) => r.status },
            { header: 'failing', value: (r) => (health(r).failing ? 'yes' : 'no') },
            { header: 'newest SET', value: (r) => health(r).head ?? '' },
            { header: 'settled', value: (r) => health(r).settled ?? '' },
          ]),
        );
      }
      return EXIT.ok;
    }
    case 'groups list':
      print(await api.call('GET', '/api/v1/groups'), (gs: GroupRow[]) =>
        table(gs, [
          { header: 'full path', value: (g) => g.fullPath },
          { header: 'name', value: (g) => g.name },
          { header: 'default role', value: (g) => g.defaultMembershipRole },
          { header: 'verified domains', value: (g) => g.verifiedDomains?.join(', ') },
          { header: 'id', value: (g) => g.id },
        ]),
      );
      return EXIT.ok;
    case 'groups members':
      print(await api.call('GET', `/api/v1/groups/${encodeURIComponent(need(arg, 'a group path'))}/members`), (ms: { username: string; accessLevel: string; source: string; state: string; accountId?: string }[]) =>
        table(ms, [
          { header: 'username', value: (m) => m.username },
          { header: 'access level', value: (m) => m.accessLevel },
          { header: 'source', value: (m) => m.source },
          { header: 'state', value: (m) => m.state },
          { header: 'account', value: (m) => m.accountId },
        ]),
      );
      return EXIT.ok;
    case 'links create': {
      const link = await api.call<LinkRow>('POST', '/api/v1/saml-group-links', { samlGroupName: need(values['saml-group'], '--saml-group'), groupPath: need(values['group-path'], '--group-path'), accessLevel: need(values['access-level'], '--access-level') });
      print(link, (l: LinkRow) => record({ id: l.id, 'SAML group': l.samlGroupName, group: l.groupPath, 'access level': l.accessLevel, 'accounts resynced': l.resyncedAccounts }));
      return EXIT.ok;
    }
    case 'links list':
      print(await api.call('GET', '/api/v1/saml-group-links'), (ls: LinkRow[]) =>
        table(ls, [
          { header: 'SAML group', value: (l) => l.samlGroupName },
          { header: 'group', value: (l) => l.groupPath },
          { header: 'access level', value: (l) => l.accessLevel },
          { header: 'id', value: (l) => l.id },
        ]),
      );
      return EXIT.ok;
    case 'links delete':
      await api.call('DELETE', `/api/v1/saml-group-links/${encodeURIComponent(need(arg, 'an id'))}`);
      print({ deleted: arg }, () => `deleted ${arg}`);
      return EXIT.ok;
    case 'users lookup': {
      const found = await api.call<{ at?: string; accounts: string[]; matches: { kind: string; value: string; from: string; to?: string | null; accountId: string; scope?: string }[] }>(
        'GET',
        `/api/v1/support/search${q({ q: need(arg, 'an identifier'), at: values.at })}`,
      );
      print(found, (f: typeof found) =>
        table(
          f.matches,
          [
            { header: 'kind', value: (m) => m.kind },
            { header: 'value', value: (m) => m.value },
            { header: 'held from', value: (m) => m.from },
            { header: 'until', value: (m) => m.to ?? 'now' },
            { header: 'account', value: (m) => m.accountId },
          ],
          `nobody held "${arg}"${f.at ? ` at ${f.at}` : ''}`,
        ),
      );
      // Scripts ask "does anybody hold this?": nobody is a not-found, like an unknown id.
      return found.accounts.length === 0 ? EXIT.notFound : EXIT.ok;
    }
    case 'users timeline':
      print(await api.call('GET', `/api/v1/support/accounts/${encodeURIComponent(need(arg, 'an account id'))}/timeline`), (t: { entries: { recordedAt: string; type: string; outcome: string; summary: string }[] }) =>
        t.entries.length === 0 ? '(no events)' : t.entries.map((e) => `${e.recordedAt}  ${e.outcome === 'rejected' ? '✗' : '✓'} ${e.type.padEnd(24)} ${e.summary}`).join('\n'),
      );
      return EXIT.ok;
    case 'users state':
      print(await api.call('GET', `/api/v1/support/accounts/${encodeURIComponent(need(arg, 'an account id'))}/state${q({ at: values.at, revision: values.revision })}`), (s: AccountStateView) => {
        const identities = Object.values(s.state.identities ?? {});
        return `${record({ account: arg, username: s.state.username ?? '(not yet created)', state: s.state.blocked ? 'blocked' : 'active', revision: s.revision, at: s.at })}\n\n${table(
          identities,
          [
            { header: 'identity', value: (i) => i.id },
            { header: 'scope', value: (i) => i.scope },
            { header: 'userName', value: (i) => i.userName },
            { header: 'externalId', value: (i) => i.externalId },
            { header: 'NameID', value: (i) => i.samlNameId },
            { header: 'active', value: (i) => (i.deleted ? 'deleted' : i.active) },
          ],
          '(no identities)',
        )}`;
      });
      return EXIT.ok;
    case 'users diagnose':
      print(await api.call('GET', `/api/v1/support/nameid-diagnosis${q({ nameId: need(arg, 'a NameID') })}`), (d: { findings: { code: string; message: string }[] }) =>
        d.findings.map((f) => `${f.code}: ${f.message}`).join('\n'),
      );
      return EXIT.ok;
    case 'users erase': {
      const accountId = need(arg, 'an account id');
      const r = await api.call<{ dryRun: boolean; identities?: { id: string; scope: string; userName: string }[]; events?: number; uniqueValues?: { count: number; after: string }; keyDestroyed?: boolean; alreadyErased?: boolean }>(
        'POST',
        '/api/v1/support/erasures',
        { accountId, reason: need(values.reason, '--reason'), dryRun: values['dry-run'] },
      );
      print(r, (e: typeof r) =>
        e.dryRun
          ? `dry run: erasing ${accountId} would make ${e.events} events unreadable, remove ${e.identities?.length ?? 0} identities (${(e.identities ?? []).map((i) => `${i.scope}/${i.id}`).join(', ')}) and leave ${e.uniqueValues?.count} unique values ${e.uniqueValues?.after}. Nothing changed.`
          : `erased ${accountId}: ${e.alreadyErased ? 'it was already erased; ' : ''}data key ${e.keyDestroyed ? 'destroyed' : 'already gone'}`,
      );
      return EXIT.ok;
    }
    case 'projections status':
      print(await api.call('GET', '/api/v1/projections'), (ps: { name: string; version: number; position: string; lag: string }[]) =>
        ps.map((p) => `${p.name.padEnd(20)} v${p.version}  position ${p.position}  lag ${p.lag}`).join('\n'),
      );
      return EXIT.ok;
    case 'projections rebuild': {
      if (!values.quiet) process.stderr.write(`rebuilding ${arg ?? 'all projections'} from the log …\n`);
      const rebuild = api.call<{ projection: string; events: number; eventsPerSecond: number }[]>('POST', '/api/v1/projections/rebuild', arg ? { projection: arg } : {});
      const r = values.quiet ? await rebuild : await withRebuildProgress(api, arg, rebuild);
      print(r, (rs: typeof r) => rs.map((x) => `${x.projection}: ${x.events} events at ${x.eventsPerSecond} events/s`).join('\n'));
      return EXIT.ok;
    }
    case 'audit export': {
      const manifest = await exportBundle(url, token, need(values.out, '--out'), { ...(values.since ? { since: values.since } : {}), ...(values.until ? { until: values.until } : {}) }, values.quiet ? noProgress : stderrProgress);
      print({ ok: true, out: values.out, events: manifest.events, fromPosition: manifest.fromPosition, toPosition: manifest.toPosition, keyFingerprint: manifest.keyFingerprint }, () =>
        `bundle written to ${values.out}: ${manifest.events} events, positions ${manifest.fromPosition}–${manifest.toPosition}, signed by key ${manifest.keyFingerprint}`,
      );
      return EXIT.ok;
    }
    case 'audit keys':
      print(await api.call('GET', '/api/v1/audit/keys'), (ks: { keyId: string; fingerprint: string }[]) => ks.map((k) => `${k.keyId}\tSHA-256 ${k.fingerprint}`).join('\n'));
      return EXIT.ok;
    default:
      throw new UsageError(`unknown command: ${positionals.join(' ')}`);
  }
}

/** The human form of a verdict: what was checked, what each signature covers, which key was trusted. */
function report(v: Verdict, verbose: boolean): string {
  const out: string[] = [];
  if (v.ok) out.push(`OK: ${v.events} events in ${v.scopes} scopes, ${v.checkpoints} signed checkpoints verified${v.range ? ` (positions ${v.range.fromPosition}–${v.range.toPosition})` : ''}`);
  else {
    out.push(`FAILED: ${v.problem}${v.record ? ` (first bad record: ${v.record})` : ''}`);
    for (const p of v.problems.slice(1)) out.push(`  also: ${p.problem}`);
  }
  for (const s of v.perScope) {
    const seqs = s.firstSeq !== undefined ? ` (#${s.firstSeq}–#${s.lastSeq})` : '';
    out.push(`  scope ${s.scope}: ${s.events} events${seqs}, ${s.signed} covered by signed checkpoints${s.unsignedTail ? `, ${s.unsignedTail} unsigned at the end` : ''}`);
  }
  if (verbose || v.signatures.length <= 20) {
    for (const c of v.signatures) out.push(`  checkpoint ${c.scope}@${c.position} (key ${c.keyId}) signs through #${c.throughSeq}: covers ${c.covers} events`);
  } else out.push(`  (${v.signatures.length} checkpoints: --verbose lists how many events each covers)`);
  for (const k of v.keys) {
    out.push(
      v.trust === 'pinned'
        ? `  key: pinned, SHA-256 ${k.fingerprint}`
        : `  key: NOT pinned; trusted the bundle's own key, SHA-256 ${k.fingerprint}. Compare it with GET /api/v1/audit/keys (scimctl audit keys), then pin it: --key ${k.fingerprint}`,
    );
  }
  return out.join('\n');
}

interface TokenRow {
  id: string;
  role?: string;
  pii?: boolean;
  scope?: string;
  name?: string;
  createdAt?: string;
  expiresAt?: string;
  revokedAt?: string;
  active?: boolean;
}
interface GroupRow {
  id: string;
  fullPath: string;
  name: string;
  defaultMembershipRole: string;
  verifiedDomains?: string[];
}
interface LinkRow {
  id: string;
  samlGroupName: string;
  groupPath: string;
  accessLevel: string;
  resyncedAccounts?: number;
}
interface AccountStateView {
  at?: string;
  revision: string;
  state: {
    username?: string;
    blocked?: boolean;
    identities?: Record<string, { id: string; scope: string; userName: string; externalId?: string; samlNameId?: string; active: boolean; deleted?: boolean }>;
  };
}

function tokenState(t: TokenRow): string {
  if (t.revokedAt) return 'revoked';
  return t.active === false ? 'expired' : 'active';
}

/**
 * An export writes a complete bundle or nothing: it never mixes into an existing bundle (the
 * manifest would no longer describe the files beside it), and a directory it created is removed
 * again if the export fails (see the handler below).
 */
function guardOut(out: string | undefined): void {
  if (!out) return;
  if (existsSync(out)) {
    const present = readdirSync(out);
    if (present.length > 0) {
      const bundle = BUNDLE_FILES.some((f) => present.includes(f));
      throw new CliFailure(EXIT.usage, `refusing to overwrite ${join(out)}: it already holds ${bundle ? 'a bundle' : `${present.length} file(s)`}; choose a new --out directory`);
    }
    return;
  }
  createdOut = out;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (createdOut) rmSync(createdOut, { recursive: true, force: true });
    const { code, message } = classify(err, serverUrl);
    process.stderr.write(`scimctl: ${message}\n`);
    if (err instanceof UsageError) process.stderr.write('(scimctl --help lists the commands; scimctl <group> <command> --help explains one)\n');
    process.exit(code);
  },
);
