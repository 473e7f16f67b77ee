import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { createClient } from '../postgres/postgres-client';

/**
 * PostgreSQL for tests: the server that DATABASE_URL (or the PG* variables, as for psql)
 * names, and a fresh database per suite on it so that runs never see each other's data.
 */
export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

const PROBE_ENV = 'SCIM_TEST_POSTGRES_PROBE';

function baseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const env = process.env;
  const user = env.PGUSER ?? userInfo().username;
  const auth = `${encodeURIComponent(user)}${env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : ''}`;
  const host = env.PGHOST ?? 'localhost';
  const socket = host.startsWith('/');
  const url = new URL(`postgres://${auth}@${socket ? 'localhost' : host}:${env.PGPORT ?? '5432'}/${env.PGDATABASE ?? user}`);
  if (socket) url.searchParams.set('host', host);
  return url.toString();
}

/**
 * Why PostgreSQL tests cannot run here, or undefined when a server answers. Synchronous (a
 * child process connects), because jest must know while it collects the tests whether to
 * skip them; the answer is kept in the environment so each test file asks only once.
 */
export function postgresUnavailableReason(): string | undefined {
  const cached = process.env[PROBE_ENV];
  if (cached !== undefined) return cached === 'ok' ? undefined : cached;
  const url = baseUrl();
  const probe = `
    const { Client } = require(process.env.PG_MODULE);
    const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 2000 });
    c.connect().then(() => c.query('SELECT 1')).then(() => c.end()).then(
      () => process.exit(0),
      (e) => { process.stderr.write(String(e.message)); process.exit(e.severity ? 2 : 1); });`;
  let reason: string | undefined;
  try {
    execFileSync(process.execPath, ['-e', probe, url], {
      env: { ...process.env, PG_MODULE: require.resolve('pg') },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
    });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    // A server that answers but refuses (a wrong password, a missing database) is a broken
    // configuration, not a missing server: fail loudly instead of skipping.
    if (process.env.DATABASE_URL && (err as { status?: number }).status === 2) {
      throw new Error(`DATABASE_URL reaches PostgreSQL, which refuses: ${stderr}`, { cause: err });
    }
    const where = process.env.DATABASE_URL ? 'DATABASE_URL' : 'the PG* defaults (DATABASE_URL is not set)';
    reason = `no PostgreSQL reachable through ${where}: ${stderr || (err as Error).message}`;
  }
  process.env[PROBE_ENV] = reason ?? 'ok';
  return reason;
}

/** Creates `scim_test_<random>` on the configured server; `drop` removes it (even if still in use). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = baseUrl();
  const name = `scim_test_${randomBytes(6).toString('hex')}`;
  await admin(base, `CREATE DATABASE ${name}`);
  // A test database never needs to survive a crash of the server: commits that return before
  // their WAL flush keep the suites fast on slow disks. Visibility and ordering (all the
  // tests check) are the same.
  await admin(base, `ALTER DATABASE ${name} SET synchronous_commit = off`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = createClient(url, {
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30_000,
    maxConnections: 1,
    applicationName: 'scim-tests',
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
