import { parseArgs } from 'node:util';
import { verifyBundle } from '@app/audit';
import { exportBundle, readBundle } from './audit-bundle';

const USAGE = `scimctl — command line for the SCIM provisioning backend

  scimctl audit export --url <server> --token <admin or pii auditor token> --out <dir> [--since <time>] [--until <time>]
  scimctl audit verify <bundle dir> [--json]

Exit codes: 0 ok, 1 verification failed (the first bad record is named), 2 usage or I/O error.`;

/**
 * node:util's parseArgs instead of a CLI framework: two sub-commands and a few flags do not
 * need a dependency.
 */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      out: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [area, command, target] = positionals;
  if (values.help || area !== 'audit') {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command === 'verify') {
    if (!target) throw new UsageError('audit verify needs a bundle directory');
    const verdict = verifyBundle(readBundle(target));
    if (values.json) process.stdout.write(`${JSON.stringify(verdict)}\n`);
    else if (verdict.ok) process.stdout.write(`OK: ${verdict.events} events in ${verdict.scopes} scopes, ${verdict.checkpoints} signed checkpoints verified\n`);
    else process.stdout.write(`FAILED: ${verdict.problem}${verdict.record ? ` (first bad record: ${verdict.record})` : ''}\n`);
    return verdict.ok ? 0 : 1;
  }
  if (command === 'export') {
    if (!values.url || !values.token || !values.out) throw new UsageError('audit export needs --url, --token and --out');
    await exportBundle(values.url, values.token, values.out, { ...(values.since ? { since: values.since } : {}), ...(values.until ? { until: values.until } : {}) }, (m) =>
      process.stderr.write(`… ${m}\n`),
    );
    process.stdout.write(values.json ? `${JSON.stringify({ ok: true, out: values.out })}\n` : `bundle written to ${values.out}\n`);
    return 0;
  }
  throw new UsageError(`unknown command: audit ${command ?? ''}`);
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof UsageError ? `${err.message}\n\n${USAGE}` : `error: ${(err as Error).message}`}\n`);
    process.exit(2);
  },
);
