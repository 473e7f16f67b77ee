/** Every command's usage in one table: the global help, group help, per-command help and completion read it. */
export interface CommandHelp {
  readonly group: string;
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly details?: string;
}

export const GROUPS: Record<string, string> = {
  tokens: 'management tokens (admin, support, auditor)',
  'scim-tokens': 'SCIM bearer tokens for an IdP, per scope',
  groups: 'groups and their members',
  links: 'SAML group links',
  users: 'support: find a person, read their story, diagnose a NameID',
  projections: 'read models: status and rebuild',
  audit: 'audit bundles: export and offline verification',
  streams: 'SCIM event streams (SSF): state, lag, failures',
  completion: 'shell completion script',
};

export const COMMANDS: readonly CommandHelp[] = [
  { group: 'tokens', name: 'create', usage: 'tokens create --role admin|support|auditor [--name N] [--expires-at T] [--pii]', summary: 'issue a management token (shown once)' },
  { group: 'tokens', name: 'list', usage: 'tokens list', summary: 'management tokens: id, role, name, state' },
  { group: 'tokens', name: 'revoke', usage: 'tokens revoke <id>', summary: 'revoke a management token' },
  { group: 'scim-tokens', name: 'create', usage: 'scim-tokens create --scope application|group [--group-path P] [--name N] [--expires-at T]', summary: 'issue a SCIM token and print the SCIM base URL for the IdP' },
  { group: 'scim-tokens', name: 'list', usage: 'scim-tokens list', summary: 'SCIM tokens: id, scope, name, state' },
  { group: 'scim-tokens', name: 'revoke', usage: 'scim-tokens revoke <id>', summary: 'revoke a SCIM token' },
  { group: 'groups', name: 'create', usage: 'groups create --path P --name N [--parent-path P] [--default-role R] [--verified-domain D ...]', summary: 'create a group' },
  { group: 'groups', name: 'list', usage: 'groups list', summary: 'groups: full path, name, default role' },
  { group: 'groups', name: 'members', usage: 'groups members <full path>', summary: "a group's members with access level and source" },
  { group: 'links', name: 'create', usage: 'links create --saml-group G --group-path P --access-level L', summary: 'map a SAML group to a group and access level' },
  { group: 'links', name: 'list', usage: 'links list', summary: 'SAML group links' },
  { group: 'links', name: 'delete', usage: 'links delete <id>', summary: 'delete a SAML group link' },
  {
    group: 'users',
    name: 'lookup',
    usage: 'users lookup <any identifier> [--at T]',
    summary: 'who holds (or held at T) a userName, email, externalId, NameID or id',
    details: 'Exit code 1 when nobody held the identifier.',
  },
  { group: 'users', name: 'timeline', usage: 'users timeline <account id>', summary: "an account's story, oldest first, refusals marked ✗" },
  { group: 'users', name: 'state', usage: 'users state <account id> [--at T | --revision N]', summary: 'the account as it was at a moment or revision' },
  { group: 'users', name: 'diagnose', usage: 'users diagnose <NameID>', summary: "why a NameID does not sign in: findings and fixes" },
  {
    group: 'users',
    name: 'erase',
    usage: 'users erase <account id> --reason R [--dry-run]',
    summary: "erase a person's personal data (GDPR Art. 17): destroys their data key (admin)",
    details: 'Run it with --dry-run first: it says what would be erased and changes nothing. The reason is recorded: write a ticket number, not personal data.',
  },
  { group: 'projections', name: 'status', usage: 'projections status', summary: 'read models: version, position, lag' },
  { group: 'projections', name: 'rebuild', usage: 'projections rebuild [name]', summary: 'rebuild one or all read models from the log' },
  {
    group: 'audit',
    name: 'export',
    usage: 'audit export --out <dir> [--since T] [--until T] [--quiet]',
    summary: 'download a verifiable bundle of [since, until)',
    details: 'Refuses to write into a directory that already holds a bundle; removes the directory it created if the export fails.',
  },
  {
    group: 'audit',
    name: 'verify',
    usage: 'audit verify <bundle dir> [--key <PEM file or SHA-256 fingerprint> ...] [--allow-unsigned-tail] [--verbose] [--quiet]',
    summary: 'verify a bundle offline (no network, no database); exit 1 if it fails',
    details: 'Pin the signing key with --key (from `scimctl audit keys`, fetched over a trusted channel); without it the bundle\'s own key is trusted and its fingerprint printed. An unsigned tail fails unless --allow-unsigned-tail.',
  },
  { group: 'streams', name: 'list', usage: 'streams list [--group-path P]', summary: "a scope's SCIM event streams: id, method, status, failing, lag" },
  { group: 'streams', name: 'status', usage: 'streams status <stream id> [--group-path P]', summary: "one stream's configuration and delivery health" },
  { group: 'audit', name: 'keys', usage: 'audit keys', summary: "the server's audit signing keys and their SHA-256 fingerprints (what --key pins)" },
  { group: 'completion', name: 'bash', usage: 'completion bash', summary: 'print a bash completion script: source <(scimctl completion bash)' },
];

const CONNECTION = `Connection: --url <server> (or SCIMCTL_URL), --token <management token> (or SCIMCTL_TOKEN).
Output: tables for people, --json for scripts. Times (T) are ISO 8601, e.g. 2026-10-01T09:30:00Z.`;

export const EXIT_CODES = `Exit codes: 0 ok · 1 not found, nobody matched, or verification failed · 2 usage error or input
the server refused (HTTP 400/409/422) · 3 server error or server unreachable · 4 not allowed (HTTP 401/403).`;

export function globalHelp(): string {
  const groups = Object.keys(GROUPS).map(
    (g) => `${g} — ${GROUPS[g]}\n${COMMANDS.filter((c) => c.group === g).map((c) => `  scimctl ${c.usage}\n      ${c.summary}`).join('\n')}`,
  );
  return `scimctl — command line for the SCIM provisioning backend

${CONNECTION}

${groups.join('\n\n')}

Help for a group or a command: scimctl <group> --help, scimctl <group> <command> --help.

${EXIT_CODES}`;
}

export function groupHelp(group: string): string | undefined {
  const commands = COMMANDS.filter((c) => c.group === group);
  if (commands.length === 0) return undefined;
  return `scimctl ${group} — ${GROUPS[group] ?? ''}

${commands.map((c) => `  scimctl ${c.usage}\n      ${c.summary}`).join('\n')}

${CONNECTION}
${EXIT_CODES}`;
}

export function commandHelp(group: string, name: string): string | undefined {
  const c = COMMANDS.find((x) => x.group === group && x.name === name);
  if (!c) return undefined;
  return `usage: scimctl ${c.usage} [--json]

${c.summary}.${c.details ? `\n${c.details}` : ''}

${CONNECTION}
${EXIT_CODES}`;
}

/** Completes groups, then a group's commands, then flags; static, so it costs nothing at run time. */
export function bashCompletion(): string {
  const groups = [...new Set(COMMANDS.map((c) => c.group))];
  const cases = groups.map((g) => `    ${g}) COMPREPLY=( $(compgen -W "${COMMANDS.filter((c) => c.group === g).map((c) => c.name).join(' ')}" -- "$cur") ) ;;`).join('\n');
  const flags = [...new Set(COMMANDS.flatMap((c) => c.usage.match(/--[a-z-]+/g) ?? []).concat(['--url', '--token', '--json', '--help']))].join(' ');
  return `# bash completion for scimctl: source <(scimctl completion bash)
_scimctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "${flags}" -- "$cur") ); return; fi
  if [[ $COMP_CWORD -eq 1 ]]; then COMPREPLY=( $(compgen -W "${groups.join(' ')}" -- "$cur") ); return; fi
  if [[ $COMP_CWORD -eq 2 ]]; then
    case "\${COMP_WORDS[1]}" in
${cases}
    esac
  fi
}
complete -F _scimctl scimctl
`;
}
