import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Verdict, verifyBundleSource } from '@app/audit';
import { ApiClient, ApiError } from './api-client';
import { directoryBundle, exportBundle, HttpFailure, noProgress, stderrProgress } from './audit-bundle';
import { Progress } from './progress';

const USAGE = `scimctl — command line for the SCIM provisioning backend

Connection: --url <server> (or SCIMCTL_URL), --token <management token> (or SCIMCTL_TOKEN). --json prints raw JSON.

  scimctl tokens create --role admin|support|auditor [--name N] [--expires-at T] [--pii]
  scimctl tokens list | tokens revoke <id>
  scimctl scim-tokens create --scope application|group [--group-path P] [--name N] [--expires-at T]
  scimctl scim-tokens list | scim-tokens revoke <id>
  scimctl groups create --path P --name N [--parent-path P] [--default-role R] [--verified-domain D ...]
  scimctl groups list | groups members <full path>
  scimctl links create --saml-group G --group-path P --access-level L | links list | links delete <id>
  scimctl users lookup <any identifier> [--at T]
  scimctl users timeline <account id> | users state <account id> [--at T | --revision N]
  scimctl users diagnose <NameID>
  scimctl projections status | projections rebuild [name]
  scimctl audit export --out <dir> [--since T] [--until T] [--quiet]
  scimctl audit verify <bundle dir> [--key <PEM file or SHA-256 fingerprint> ...] [--allow-unsigned-tail] [--verbose] [--quiet]
                                              (offline: no network, no database)
  scimctl audit keys                          (the server's signing keys and their fingerprints)

Exit codes: 0 ok, 1 not found or verification failed, 2 usage error, 3 server error, 4 not allowed.`;

class UsageError extends Error {}

/**
 * node:util's parseArgs rather than a CLI framework: flat sub-commands and a handful of flags
 * do not need a dependency.
 */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
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
    },
  });
  const [area, command, arg] = positionals;
  if (values.help || !area) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const print = (v: unknown, human?: (v: never) => string) => {
    process.stdout.write(`${values.json || !human ? JSON.stringify(v, null, values.json ? 0 : 2) : human(v as never)}\n`);
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
    return verdict.ok ? 0 : 1;
  }

  const url = values.url ?? process.env.SCIMCTL_URL;
  const token = values.token ?? process.env.SCIMCTL_TOKEN;
  if (!url || !token) throw new UsageError('--url and --token (or SCIMCTL_URL and SCIMCTL_TOKEN) are required');
  const api = new ApiClient(url, token);
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new UsageError(`${area} ${command} needs ${what}`);
    return v;
  };
  const q = (o: Record<string, string | undefined>) => {
    const s = new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined) as [string, string][]).toString();
    return s ? `?${s}` : '';
  };

  switch (`${area} ${command ?? ''}`.trim()) {
    case 'tokens create':
      print(await api.call('POST', '/api/v1/tokens', { role: need(values.role, '--role'), ...(values.name ? { name: values.name } : {}), ...(values['expires-at'] ? { expiresAt: values['expires-at'] } : {}), ...(values.pii ? { pii: true } : {}) }));
      return 0;
    case 'tokens list':
      print(await api.call('GET', '/api/v1/tokens'));
      return 0;
    case 'tokens revoke':
      await api.call('DELETE', `/api/v1/tokens/${encodeURIComponent(need(arg, 'an id'))}`);
      print({ revoked: arg }, () => `revoked ${arg}`);
      return 0;
    case 'scim-tokens create':
      print(await api.call('POST', '/api/v1/scim/tokens', { scope: need(values.scope, '--scope'), ...(values['group-path'] ? { groupPath: values['group-path'] } : {}), ...(values.name ? { name: values.name } : {}), ...(values['expires-at'] ? { expiresAt: values['expires-at'] } : {}) }));
      return 0;
    case 'scim-tokens list':
      print(await api.call('GET', '/api/v1/scim/tokens'));
      return 0;
    case 'scim-tokens revoke':
      await api.call('DELETE', `/api/v1/scim/tokens/${encodeURIComponent(need(arg, 'an id'))}`);
      print({ revoked: arg }, () => `revoked ${arg}`);
      return 0;
    case 'groups create':
      print(
        await api.call('POST', '/api/v1/groups', {
          path: need(values.path, '--path'),
          name: need(values.name, '--name'),
          ...(values['parent-path'] ? { parentPath: values['parent-path'] } : {}),
          ...(values['default-role'] ? { defaultMembershipRole: values['default-role'] } : {}),
          ...(values['verified-domain'] ? { verifiedDomains: values['verified-domain'] } : {}),
        }),
      );
      return 0;
    case 'groups list':
      print(await api.call('GET', '/api/v1/groups'), (gs: { fullPath: string; defaultMembershipRole: string }[]) => gs.map((g) => `${g.fullPath}\t${g.defaultMembershipRole}`).join('\n'));
      return 0;
    case 'groups members':
      print(await api.call('GET', `/api/v1/groups/${encodeURIComponent(need(arg, 'a group path'))}/members`), (ms: { username: string; accessLevel: string; source: string; state: string }[]) =>
        ms.map((m) => `${m.username}\t${m.accessLevel}\t${m.source}\t${m.state}`).join('\n'),
      );
      return 0;
    case 'links create':
      print(await api.call('POST', '/api/v1/saml-group-links', { samlGroupName: need(values['saml-group'], '--saml-group'), groupPath: need(values['group-path'], '--group-path'), accessLevel: need(values['access-level'], '--access-level') }));
      return 0;
    case 'links list':
      print(await api.call('GET', '/api/v1/saml-group-links'));
      return 0;
    case 'links delete':
      await api.call('DELETE', `/api/v1/saml-group-links/${encodeURIComponent(need(arg, 'an id'))}`);
      print({ deleted: arg }, () => `deleted ${arg}`);
      return 0;
    case 'users lookup':
      print(await api.call('GET', `/api/v1/support/search${q({ q: need(arg, 'an identifier'), at: values.at })}`));
      return 0;
    case 'users timeline':
      print(await api.call('GET', `/api/v1/support/accounts/${encodeURIComponent(need(arg, 'an account id'))}/timeline`), (t: { entries: { recordedAt: string; type: string; outcome: string; summary: string }[] }) =>
        t.entries.map((e) => `${e.recordedAt}  ${e.outcome === 'rejected' ? '✗' : '✓'} ${e.type.padEnd(24)} ${e.summary}`).join('\n'),
      );
      return 0;
    case 'users state':
      print(await api.call('GET', `/api/v1/support/accounts/${encodeURIComponent(need(arg, 'an account id'))}/state${q({ at: values.at, revision: values.revision })}`));
      return 0;
    case 'users diagnose':
      print(await api.call('GET', `/api/v1/support/nameid-diagnosis${q({ nameId: need(arg, 'a NameID') })}`), (d: { findings: { code: string; message: string }[] }) =>
        d.findings.map((f) => `${f.code}: ${f.message}`).join('\n'),
      );
      return 0;
    case 'projections status':
      print(await api.call('GET', '/api/v1/projections'), (ps: { name: string; version: number; position: string; lag: string }[]) =>
        ps.map((p) => `${p.name.padEnd(20)} v${p.version}  position ${p.position}  lag ${p.lag}`).join('\n'),
      );
      return 0;
    case 'projections rebuild': {
      process.stderr.write(`rebuilding ${arg ?? 'all projections'} from the log …\n`);
      const r = await api.call<{ projection: string; events: number; eventsPerSecond: number }[]>('POST', '/api/v1/projections/rebuild', arg ? { projection: arg } : {});
      print(r, (rs: typeof r) => rs.map((x) => `${x.projection}: ${x.events} events at ${x.eventsPerSecond} events/s`).join('\n'));
      return 0;
    }
    case 'audit export': {
      const manifest = await exportBundle(url, token, need(values.out, '--out'), { ...(values.since ? { since: values.since } : {}), ...(values.until ? { until: values.until } : {}) }, values.quiet ? noProgress : stderrProgress);
      print({ ok: true, out: values.out, events: manifest.events, fromPosition: manifest.fromPosition, toPosition: manifest.toPosition, keyFingerprint: manifest.keyFingerprint }, () =>
        `bundle written to ${values.out}: ${manifest.events} events, positions ${manifest.fromPosition}–${manifest.toPosition}, signed by key ${manifest.keyFingerprint}`,
      );
      return 0;
    }
    case 'audit keys':
      print(await api.call('GET', '/api/v1/audit/keys'), (ks: { keyId: string; fingerprint: string }[]) => ks.map((k) => `${k.keyId}\tSHA-256 ${k.fingerprint}`).join('\n'));
      return 0;
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (err instanceof HttpFailure) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(err.status === 401 || err.status === 403 ? 4 : 3);
    }
    if (err instanceof ApiError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(err.status === 404 ? 1 : err.status === 401 || err.status === 403 ? 4 : 3);
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
