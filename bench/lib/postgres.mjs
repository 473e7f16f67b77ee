// --store postgres: a fresh database per run on the server DATABASE_URL names, dropped when the
// run ends whichever way it ends (the drop runs synchronously in a child process, because an
// 'exit' handler cannot wait for a promise).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const DROP = `
  const { Client } = require(process.env.PG_MODULE);
  const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 5000 });
  c.connect().then(() => c.query(process.argv[2])).then(() => c.end(), (e) => { process.stderr.write(e.message); process.exit(1); });`;

function admin(url, sql) {
  const r = spawnSync(process.execPath, ['-e', DROP, url, sql], {
    env: { ...process.env, PG_MODULE: require.resolve('pg') },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0)
    throw new Error(`PostgreSQL at DATABASE_URL: ${(r.stderr || r.error?.message || 'no answer').trim()}`);
}

/** Creates scim_bench_<random>; returns its URL. Needs DATABASE_URL (a server where it may create databases). */
export function createBenchDatabase(log) {
  const base = process.env.DATABASE_URL;
  if (!base)
    throw new Error(
      '--store postgres needs DATABASE_URL naming a PostgreSQL server where the harness may create and drop a database (e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres)',
    );
  const name = `scim_bench_${randomBytes(4).toString('hex')}`;
  admin(base, `CREATE DATABASE ${name}`);
  let dropped = false;
  const drop = () => {
    if (dropped) return;
    dropped = true;
    try {
      admin(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch (err) {
      log(`could not drop the benchmark database ${name}: ${err.message}`);
    }
  };
  process.on('exit', drop);
  const url = new URL(base);
  url.pathname = `/${name}`;
  log(`postgres: created database ${name} (dropped at the end of the run)`);
  return { name, url: url.toString(), drop };
}
