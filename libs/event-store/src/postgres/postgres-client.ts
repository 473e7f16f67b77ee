/**
 * The only file that imports `pg`, so that a change of client (or of its pool settings)
 * touches this file alone.
 */
import pg from 'pg';

export type { Notification, Pool, PoolClient, Client, QueryResult, QueryResultRow } from 'pg';
export const { DatabaseError } = pg;

export interface PostgresConnectionOptions {
  /** Longest wait for a new connection; past it the call fails (503 at the HTTP layer). */
  readonly connectTimeoutMs: number;
  /** Longest wait for one query's answer, so a server that accepts but never answers fails too. */
  readonly queryTimeoutMs: number;
  readonly maxConnections: number;
  readonly applicationName: string;
}

/**
 * A pool on `connectionString`. An empty string leaves everything to the `PG*` variables
 * (PGHOST, PGUSER, ...), exactly as `psql` would.
 */
export function createPool(connectionString: string, options: PostgresConnectionOptions): pg.Pool {
  const pool = new pg.Pool({
    ...(connectionString ? { connectionString } : {}),
    connectionTimeoutMillis: options.connectTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    max: options.maxConnections,
    application_name: options.applicationName,
    // TCP keep-alive notices a silently dropped connection (a NAT or proxy timing out).
    keepAlive: true,
  });
  // An idle connection that dies (server restart, network cut) emits 'error' on the pool;
  // unhandled, that would take the whole process down. The pool drops it and opens another
  // on the next checkout, which is the recovery we want.
  pool.on('error', () => undefined);
  // The same for a connection lost while checked out: its pending query rejects (that is
  // the error callers see); the event itself must not go unhandled.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** One connection outside the pool: the LISTEN connection and the migration lock holder. */
export function createClient(connectionString: string, options: PostgresConnectionOptions): pg.Client {
  const client = new pg.Client({
    ...(connectionString ? { connectionString } : {}),
    connectionTimeoutMillis: options.connectTimeoutMs,
    query_timeout: options.queryTimeoutMs,
    application_name: options.applicationName,
    keepAlive: true,
  });
  return client;
}
