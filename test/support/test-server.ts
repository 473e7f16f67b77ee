import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfig, loadConfig } from '@app/config';
import { waitFor } from '@app/testing';
import { createTestDatabase } from '@app/event-store/testing/postgres-test-database';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startServer } from '../../apps/scim-server/src/bootstrap';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface ScimClient {
  readonly base: string;
  readonly token: string;
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
}

/** The store servers of this test file run on unless a test names one; see `runTestServersOnPostgres`. */
let defaultStore: 'sqlite' | 'postgres' = 'sqlite';

/**
 * From now on (in this test file) every TestServer that does not choose its store runs on
 * PostgreSQL, each on a fresh database of its own that `stop` drops.
 */
export function runTestServersOnPostgres(): void {
  defaultStore = 'postgres';
}

/**
 * The real server on a real port, on a fresh embedded store (or PostgreSQL database): end-to-end tests speak HTTP
 * to it exactly as an IdP or an administrator would.
 */
export class TestServer {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly url: string,
    readonly dataDir: string,
    readonly config: AppConfig,
    private readonly dropDatabase?: () => Promise<void>,
  ) {}

  static async start(env: Record<string, string> = {}, dataDir?: string, options: { waitUntilReady?: boolean } = {}): Promise<TestServer> {
    const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'scim-e2e-'));
    const database = defaultStore === 'postgres' && env.EVENT_STORE === undefined ? await createTestDatabase() : undefined;
    const storeEnv = database ? { EVENT_STORE: 'postgres', DATABASE_URL: database.url } : {};
    const config = loadConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: 'error', ...storeEnv, ...env });
    const { app, url } = await startServer(config);
    // The port is only known once listening; URLs the server returns must use it.
    (config as { publicUrl: string }).publicUrl = url;
    // On a shared store the server listens before its projections have caught up (it serves
    // 503s while the store is away): a test starts when it is ready, as a load balancer's
    // health check would send it traffic (a test of a store that is away says so).
    if (config.eventStore !== 'sqlite' && options.waitUntilReady !== false) {
      await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, { timeoutMs: 30_000, intervalMs: 20, what: 'the server to be ready' });
    }
    return new TestServer(app, url, dir, config, database?.drop);
  }

  async stop(removeData = true): Promise<void> {
    await this.app.close();
    if (removeData) {
      rmSync(this.dataDir, { recursive: true, force: true });
      await this.dropDatabase?.();
    }
  }

  async http<T = any>(method: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined = options.raw;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/scim+json';
    } else if (payload !== undefined) {
      headers['content-type'] ??= 'application/scim+json';
    }
    const res = await fetch(path.startsWith('http') ? path : `${this.url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: res.status, headers: res.headers, body, text };
  }

  admin<T = any>(method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
    return this.http<T>(method, path, { token: ADMIN_TOKEN, body, headers: { 'content-type': 'application/json' } });
  }

  async createGroup(path: string, options: Record<string, unknown> = {}): Promise<any> {
    const r = await this.admin('POST', '/api/v1/groups', { path, name: path.toUpperCase(), ...options });
    if (r.status !== 201) throw new Error(`group ${path}: ${r.status} ${r.text}`);
    return r.body;
  }

  /** A SCIM client for the instance scope, or for a top-level group's scope. */
  async scim(groupPath?: string): Promise<ScimClient> {
    const r = await this.admin('POST', '/api/v1/scim/tokens', groupPath ? { scope: 'group', groupPath } : { scope: 'application' });
    if (r.status !== 201) throw new Error(`token: ${r.status} ${r.text}`);
    const { scim_api_url: base, scim_token: token } = r.body as { scim_api_url: string; scim_token: string };
    return {
      base,
      token,
      request: (method, path, body, headers) => this.http(method, `${base}${path}`, { token, body, headers }),
    };
  }
}

export function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: userName.includes('@') ? userName : `${userName}@example.com`, type: 'work' }],
    active: true,
    ...extra,
  };
}
