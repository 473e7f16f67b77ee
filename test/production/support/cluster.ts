import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, postgresUnavailableReason } from '@app/event-store/testing/postgres-test-database';
import { ChildServer } from '../../support/child-server';
import { ADMIN_TOKEN, type HttpResult, type ScimClient } from '../../support/test-server';

/** A shared store for one suite: the environment its servers need, and how to throw it away. */
export interface SharedStore {
  readonly env: Record<string, string>;
  /** PostgreSQL only: the suite's own database. */
  readonly databaseUrl?: string;
  drop(): Promise<void>;
}

export type StoreFactory = () => Promise<SharedStore>;

/**
 * The shared stores these proofs run on: PostgreSQL whenever one is reachable (always in CI),
 * EventStoreDB whenever EVENTSTORE_CONNECTION_STRING names one. What is skipped says why.
 */
export function sharedStores(suite: string, options: { postgresOnly?: string } = {}): [string, StoreFactory][] {
  const stores: [string, StoreFactory][] = [];
  const pgReason = postgresUnavailableReason();
  if (pgReason) {
    console.warn(`${suite} on PostgreSQL skipped: ${pgReason}`);
  } else {
    stores.push([
      'PostgreSQL',
      async () => {
        const db = await createTestDatabase();
        return { env: { EVENT_STORE: 'postgres', DATABASE_URL: db.url }, databaseUrl: db.url, drop: () => db.drop() };
      },
    ]);
  }
  const esdb = process.env.EVENTSTORE_CONNECTION_STRING;
  if (!esdb) {
    console.warn(`${suite} on EventStoreDB skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server)`);
  } else if (options.postgresOnly) {
    console.warn(`${suite} on EventStoreDB skipped: ${options.postgresOnly}`);
  } else {
    stores.push(['EventStoreDB', () => Promise.resolve({ env: { EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: esdb }, drop: () => Promise.resolve() })]);
  }
  return stores;
}

async function http<T = any>(url: string, method: string, token: string | undefined, body?: unknown): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/scim+json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/**
 * Several real server processes on one shared store, each with its own port and DATA_DIR
 * (its own read models), as behind a load balancer.
 */
export class Cluster {
  private constructor(
    readonly nodes: ChildServer[],
    private readonly dirs: string[],
    private readonly env: Record<string, string>,
  ) {}

  /** `nodeEnv[i]`: what instance `i` alone runs with at start (a fault switch); restarts and additions go without. */
  static async start(size: number, storeEnv: Record<string, string>, extraEnv: Record<string, string> = {}, nodeEnv: Record<string, string>[] = []): Promise<Cluster> {
    // One PUBLIC_URL, as behind a load balancer: every instance returns the same locations.
    const env = { ADMIN_TOKEN, PUBLIC_URL: 'http://scim.example.test', LOG_LEVEL: 'warn', AUDIT_CHECKPOINT_INTERVAL_MS: '0', RATE_LIMIT_PER_MINUTE: '1000000', ...storeEnv, ...extraEnv };
    const dirs = Array.from({ length: size }, () => mkdtempSync(join(tmpdir(), 'scim-multi-')));
    const started = await Promise.allSettled(dirs.map((dir, i) => ChildServer.start({ ...env, ...nodeEnv[i], DATA_DIR: dir }, { readyWithinMs: 90_000 })));
    const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(nodes.map((n) => n.kill()));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new Cluster(nodes, dirs, env);
  }

  get size(): number {
    return this.nodes.length;
  }

  url(i: number): string {
    return this.nodes[i].url;
  }

  admin<T = any>(i: number, method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
    return http<T>(`${this.url(i)}${path}`, method, ADMIN_TOKEN, body);
  }

  /** A SCIM token (issued through instance `i`) and the base path of its scope. */
  async scimToken(i = 0, groupPath?: string): Promise<{ token: string; path: string }> {
    const r = await this.admin(i, 'POST', '/api/v1/scim/tokens', groupPath ? { scope: 'group', groupPath } : { scope: 'application' });
    if (r.status !== 201) throw new Error(`token: ${r.status} ${r.text}`);
    return { token: r.body.scim_token, path: new URL(r.body.scim_api_url).pathname };
  }

  /** A SCIM client that always talks to instance `i`. */
  scim(i: number, auth: { token: string; path: string }): ScimClient {
    const base = `${this.url(i)}${auth.path}`;
    return { base, token: auth.token, request: (method, path, body) => http(`${base}${path}`, method, auth.token, body) };
  }

  /** A SCIM client whose requests go round-robin over the instances, as behind a load balancer. */
  spread(auth: { token: string; path: string }, among: readonly number[] = this.nodes.map((_, i) => i)): ScimClient {
    let next = 0;
    return {
      base: auth.path,
      token: auth.token,
      request: (method, path, body) => {
        const i = among[next++ % among.length];
        return http(`${this.url(i)}${auth.path}${path}`, method, auth.token, body);
      },
    };
  }

  kill(i: number): Promise<void> {
    return this.nodes[i].kill('SIGKILL');
  }

  /** Starts instance `i` again on its port and its DATA_DIR (its read models as the crash left them). */
  async restart(i: number): Promise<void> {
    this.nodes[i] = await ChildServer.start({ ...this.env, DATA_DIR: this.dirs[i] }, { port: this.nodes[i].port, readyWithinMs: 90_000 });
  }

  /** A new instance with an empty DATA_DIR: its read models are built from the log alone. */
  async add(): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), 'scim-multi-'));
    this.dirs.push(dir);
    this.nodes.push(await ChildServer.start({ ...this.env, DATA_DIR: dir }, { readyWithinMs: 90_000 }));
    return this.nodes.length - 1;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill('SIGTERM')));
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Every user of a scope, sorted by id, as instance `i` serves them. */
export async function allUsers(client: ScimClient): Promise<any[]> {
  const out: any[] = [];
  for (let start = 1; ; start += 1000) {
    const r = await client.request('GET', `/Users?startIndex=${start}&count=1000`);
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.text}`);
    out.push(...r.body.Resources);
    if (r.body.Resources.length < 1000) break;
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
