// Command-line options of bench/run.mjs.
const HELP = `usage: node bench/run.mjs [options]        (npm run bench -- [options] builds first)

  --quick               2,000 users, 3 s phases, a 5,000-member big group, 50,000 audit events
  --users N             users preloaded into ours and the peer (default 10,000; --quick 2,000)
  --duration S          seconds per autocannon phase (default 10; --quick 3)
  --only LIST           servers to run, comma-separated from ours,peer,ceiling (default all three)
  --big-group N         members of the big group (default 50,000; --quick 5,000)
  --audit-events N      audited events in the log for audit-query (default 1,000,000;
                        --quick 50,000; 0 skips the phase)
  --connections N       autocannon connections (default 16)
  --store S             ours' event store: sqlite (embedded, default) or postgres (a fresh
                        database per run on the server DATABASE_URL names, dropped at the end)
  --instances N         instances of ours on the one store, the load spread over them
                        (default 1; more than 1 needs --store postgres)
  --phases LIST         run only these phases, comma-separated names or prefixes
                        (e.g. post,filter; default all)
  --attacker-users N    users of the attacking tenant in the fairness phase (default 5,000;
                        --quick 2,000)
  --fairness-only       boot ours alone and run only the fairness phase
  --help                this text
`;

export function parseArgs(argv) {
  const args = [...argv];
  const known = new Set([
    'quick',
    'users',
    'duration',
    'only',
    'big-group',
    'audit-events',
    'connections',
    'store',
    'instances',
    'phases',
    'attacker-users',
    'fairness-only',
    'help',
  ]);
  const flags = new Set();
  const values = new Map();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n\n${HELP}`);
    const [name, inline] = a.slice(2).split('=', 2);
    if (!known.has(name)) throw new Error(`unknown option --${name}\n\n${HELP}`);
    if (name === 'quick' || name === 'help' || name === 'fairness-only') {
      flags.add(name);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
  }
  if (flags.has('help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = flags.has('quick');
  const int = (name, fallback, min) => {
    if (!values.has(name)) return fallback;
    const n = Number(String(values.get(name)).replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer ≥ ${min} (got ${values.get(name)})`);
    return n;
  };
  const only = (values.get('only') ?? 'ours,peer,ceiling')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of only)
    if (!['ours', 'peer', 'ceiling'].includes(s))
      throw new Error(`--only: unknown server ${s} (ours, peer, ceiling)`);
  const store = values.get('store') ?? 'sqlite';
  if (!['sqlite', 'postgres'].includes(store))
    throw new Error(`--store: unknown store ${store} (sqlite, postgres)`);
  const instances = int('instances', 1, 1);
  if (instances > 1 && store !== 'postgres')
    throw new Error(
      '--instances above 1 needs --store postgres (the embedded store is one process per file)',
    );
  const phases = values.has('phases')
    ? values
        .get('phases')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  return {
    store,
    instances,
    /** Whether a phase runs: every phase without --phases, else those a listed name is a prefix of. */
    runs: (name) => !phases || phases.some((p) => name.startsWith(p)),
    quick,
    users: int('users', quick ? 2000 : 10000, 200),
    duration: int('duration', quick ? 3 : 10, 1),
    only: new Set(only),
    bigGroup: int('big-group', quick ? 5000 : 50000, 11),
    auditEvents: int('audit-events', quick ? 50000 : 1000000, 0),
    connections: int('connections', 16, 1),
    attackerUsers: int('attacker-users', quick ? 2000 : 5000, 1000),
    fairnessOnly: flags.has('fairness-only'),
  };
}
