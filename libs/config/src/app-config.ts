import { resolve } from 'node:path';

export interface AppConfig {
  readonly host: string;
  readonly port: number;
  /** Base of the URLs the server prints and returns (scim_api_url, meta.location). */
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly eventStore: 'sqlite' | 'eventstoredb' | 'postgres';
  readonly eventStoreConnectionString?: string;
  /** PostgreSQL connection URL, with `EVENT_STORE=postgres`. */
  readonly databaseUrl?: string;
  readonly sqliteSynchronous: 'NORMAL' | 'FULL';
  readonly adminToken?: string;
  readonly rateLimitPerMinute: number;
  readonly maxPayloadBytes: number;
  /** SCIM `filter.maxResults`: the largest page a list returns. */
  readonly maxResults: number;
  readonly bulkMaxOperations: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long a query waits for projections to include this process's writes. */
  readonly readYourWritesTimeoutMs: number;
  /** Worker threads for list queries that scan a whole scope (0: run them on the request thread). */
  readonly scanWorkers: number;
  /** Such scans one tenant may have queued or running; one more is 429 with Retry-After. */
  readonly scanQueuePerTenant: number;
  /** RFC 9865 `pagination.cursorTimeout`: seconds a SCIM paging cursor stays usable. */
  readonly cursorTimeoutSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment once at start. Every bad variable gets its own
 * message, and the server refuses to start rather than run half-configured.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const oneOf = <T extends string>(name: string, values: readonly T[], fallback: T): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const v = (values as readonly string[]).find((x) => x.toLowerCase() === raw.toLowerCase());
    if (!v) {
      problems.push(`${name} must be one of ${values.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return v as T;
  };

  const host = env.HOST || '127.0.0.1';
  const port = int('PORT', 3000, 0, 65535);
  const eventStore = oneOf('EVENT_STORE', ['sqlite', 'eventstoredb', 'postgres'] as const, 'sqlite');
  const connectionString = env.EVENTSTORE_CONNECTION_STRING || undefined;
  if (eventStore === 'eventstoredb' && !connectionString) {
    problems.push('EVENTSTORE_CONNECTION_STRING is required when EVENT_STORE=eventstoredb (e.g. esdb://localhost:2113?tls=false)');
  }
  // The client (@eventstore/db-client 6.x) parses only these two schemes; `kurrentdb://` from
  // newer KurrentDB docs would pass here and then fail at start, so it is refused with the fix.
  if (connectionString && !/^esdb(\+discover)?:\/\//i.test(connectionString)) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(connectionString)?.[1];
    problems.push(
      `EVENTSTORE_CONNECTION_STRING must start with esdb:// or esdb+discover://` +
        (scheme && /^(kurrentdb|kurrent|kdb)/i.test(scheme)
          ? ` (got ${scheme}://: the client of this version does not read it; write esdb${scheme.includes('+discover') ? '+discover' : ''}:// with the same hosts and settings)`
          : scheme
            ? ` (got ${scheme}://)`
            : ''),
    );
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (eventStore === 'postgres' && !databaseUrl) {
    problems.push('DATABASE_URL is required when EVENT_STORE=postgres (e.g. postgres://user:password@localhost:5432/scim)');
  }
  if (databaseUrl && !isPostgresUrl(databaseUrl)) {
    // Never echo the value: it usually carries a password.
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL with a host (e.g. postgres://user:password@localhost:5432/scim)');
  }
  const adminToken = env.ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16) problems.push('ADMIN_TOKEN must be at least 16 characters');
  const publicUrl = (env.PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(publicUrl)) problems.push(`PUBLIC_URL must be an http(s) URL (got "${env.PUBLIC_URL}")`);

  const config: AppConfig = {
    host,
    port,
    publicUrl,
    dataDir: resolve(env.DATA_DIR || './data'),
    eventStore,
    ...(connectionString ? { eventStoreConnectionString: connectionString } : {}),
    ...(databaseUrl && eventStore === 'postgres' ? { databaseUrl } : {}),
    sqliteSynchronous: oneOf('SQLITE_SYNCHRONOUS', ['NORMAL', 'FULL'] as const, 'NORMAL'),
    ...(adminToken ? { adminToken } : {}),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 6000, 1, 1_000_000_000),
    maxPayloadBytes: int('MAX_PAYLOAD_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    maxResults: int('SCIM_MAX_RESULTS', 1000, 1, 10_000),
    bulkMaxOperations: int('SCIM_BULK_MAX_OPERATIONS', 1000, 1, 10_000),
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    readYourWritesTimeoutMs: int('READ_YOUR_WRITES_TIMEOUT_MS', 2000, 0, 60_000),
    scanWorkers: int('SCAN_WORKERS', 1, 0, 16),
    scanQueuePerTenant: int('SCAN_QUEUE_PER_TENANT', 4, 1, 1000),
    cursorTimeoutSeconds: int('SCIM_CURSOR_TIMEOUT_SECONDS', 3600, 1, 7 * 24 * 3600),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && (url.hostname !== '' || url.searchParams.has('host'));
  } catch {
    return false;
  }
}

export const APP_CONFIG = Symbol('APP_CONFIG');
