import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { JsonObject, JsonValue, RecordedEvent } from '@app/event-store';
import type { AsyncExecution, AsyncOperationOutcome, AsyncReply, AsyncRequestAccepted, AsyncRequestExecutor } from '@app/events';
import { asyncRequestTickets } from './async-request-tickets';

/** Answers that mean "not now" rather than an outcome: the request stays pending and runs again. */
const NOT_NOW = new Set([429, 503]);

/**
 * Runs an accepted request through the server's own HTTP pipeline (Fastify's inject), as the
 * Bulk endpoint runs its operations: the same validation, rules, errors and audit as the
 * synchronous request, no second implementation. The request's txn is its request id, so every
 * event it causes carries the txn as its correlation id.
 */
@Injectable()
export class HttpAsyncRequestExecutor implements AsyncRequestExecutor {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute(request: AsyncRequestAccepted, committed: readonly RecordedEvent[] = []): Promise<AsyncExecution> {
    if (committed.length > 0 && !request.bulk) {
      const done = await this.alreadyDone(request, committed);
      if (done) return done;
    }
    if (committed.length > 0 && request.bulk) return this.bulkAgain(request, committed);
    return this.run(request, request.body);
  }

  private async run(request: AsyncRequestAccepted, body: JsonValue): Promise<AsyncExecution> {
    const res = await this.inject(request, request.method, request.url, body);
    const reply = replyOf(res);
    if (NOT_NOW.has(res.statusCode)) return { reply };
    const location = `${this.config.publicUrl}${request.url.split('?')[0]}`;
    return { reply, operations: outcomes(request, res.statusCode, header(res, 'location'), header(res, 'etag'), parse(res.body), location) };
  }

  /**
   * A request whose write committed before its process died (its events carry its txn): running
   * it again would answer as a repeat does (a create: 409), so its outcome is read instead — the
   * resource it wrote, as it is now.
   */
  private async alreadyDone(request: AsyncRequestAccepted, committed: readonly RecordedEvent[]): Promise<AsyncExecution | undefined> {
    let resourcePath = request.path;
    if (request.method === 'POST') {
      const id =
        request.path === '/Users'
          ? committed.map((e) => e.data.identityId).find((v): v is string => typeof v === 'string')
          : committed.find((e) => e.type === 'ScimGroupCreated')?.data.groupId;
      if (typeof id !== 'string') return undefined;
      resourcePath = `${request.path}/${id}`;
    }
    const pathname = request.url.split('?')[0]!;
    const resourceUrl = `${pathname.slice(0, pathname.length - request.path.length)}${resourcePath}`;
    const location = `${this.config.publicUrl}${resourceUrl}`;
    const status = request.method === 'POST' ? 201 : request.method === 'DELETE' ? 204 : 200;
    const res = request.method === 'DELETE' ? undefined : await this.inject(request, 'GET', resourceUrl, null);
    if (res && NOT_NOW.has(res.statusCode)) return { reply: replyOf(res) };
    const version = res?.statusCode === 200 ? (header(res, 'etag') ?? null) : null;
    return {
      reply: { status, headers: { location, ...(version ? { etag: version } : {}), ...(res?.statusCode === 200 ? { 'content-type': 'application/scim+json' } : {}) }, body: res?.statusCode === 200 ? res.body : '' },
      operations: [{ method: request.method, status: String(status), bulkId: null, location, version, response: null }],
    };
  }

  /**
   * A Bulk whose process died after some of its operations committed. Run again whole, its
   * creates that committed would answer 409 (the resource exists: they made it) and the
   * operations that refer to them by bulkId would fail. So the creates this txn already made
   * are not sent again: they answer 201 with the resource they made, their bulkIds are replaced
   * by those ids in the operations sent, and the rest runs again as before (updates and
   * deletes are run again: a PUT or PATCH repeated lands where it did, a DELETE repeated is 404).
   */
  private async bulkAgain(request: AsyncRequestAccepted, committed: readonly RecordedEvent[]): Promise<AsyncExecution> {
    const body = request.body as JsonObject;
    const operations = Array.isArray(body.Operations) ? (body.Operations as JsonValue[]) : [];
    const made = committedCreates(operations, committed);
    if (made.size === 0) return this.run(request, request.body);
    const ids = new Map([...made.values()].flatMap((m) => (m.bulkId !== null ? [[m.bulkId, m.id] as const] : [])));
    const rest = operations.filter((_, i) => !made.has(i)).map((op) => withBulkIds(op, ids));
    let again: AsyncOperationOutcome[] = [];
    if (rest.length > 0) {
      const res = await this.inject(request, request.method, request.url, { ...body, Operations: rest });
      if (NOT_NOW.has(res.statusCode)) return { reply: replyOf(res) };
      // The Bulk as a whole failed (it did not the first time): that is its outcome.
      if (res.statusCode !== 200) return this.run(request, request.body);
      again = outcomes(request, res.statusCode, undefined, undefined, parse(res.body), request.url);
    }
    const pathname = request.url.split('?')[0]!;
    const base = pathname.slice(0, pathname.length - request.path.length);
    const merged: AsyncOperationOutcome[] = [];
    let next = 0;
    for (let i = 0; i < operations.length; i++) {
      const m = made.get(i);
      if (!m) {
        if (next < again.length) merged.push(again[next++]!);
        continue;
      }
      const resourceUrl = `${base}${m.path}/${m.id}`;
      const res = await this.inject(request, 'GET', resourceUrl, null);
      if (NOT_NOW.has(res.statusCode)) return { reply: replyOf(res) };
      const version = res.statusCode === 200 ? (header(res, 'etag') ?? null) : null;
      merged.push({ method: 'POST', status: '201', bulkId: m.bulkId, location: `${this.config.publicUrl}${resourceUrl}`, version, response: null });
    }
    const response = { schemas: [BULK_RESPONSE], Operations: merged.map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null))) };
    return { reply: { status: 200, headers: { 'content-type': 'application/scim+json' }, body: JSON.stringify(response) }, operations: merged };
  }

  /** One request through the HTTP pipeline, with the caller's authority (a ticket) and the txn as its request id. */
  private async inject(request: AsyncRequestAccepted, method: string, url: string, body: JsonValue): Promise<LightMyRequestResponse> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const authorization = asyncRequestTickets.issue({ kind: 'scim', tokenId: request.tokenId, scope: request.scope, sha256Prefix: request.tokenSha256Prefix });
    try {
      return await fastify.inject({
        method: method as 'GET',
        url,
        headers: {
          authorization,
          'x-request-id': request.txn,
          'content-type': 'application/scim+json',
          ...(request.ifMatch !== null && method !== 'GET' ? { 'if-match': request.ifMatch } : {}),
          ...(request.userAgent !== null ? { 'user-agent': request.userAgent } : {}),
        },
        ...(body !== null && method !== 'DELETE' && method !== 'GET' ? { payload: JSON.stringify(body) } : {}),
      });
    } finally {
      asyncRequestTickets.revoke(authorization);
    }
  }
}

const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

interface CommittedCreate {
  readonly path: '/Users' | '/Groups';
  readonly id: string;
  readonly bulkId: string | null;
}

/**
 * Which POST operations of a Bulk the txn's committed events created, by operation index: a
 * user by its userName (compared as SCIM compares it, case-insensitively), a group by its
 * displayName. Each event answers one operation, the first that names it: a later operation
 * with the same name had failed the first time and is run again (to fail again).
 */
export function committedCreates(operations: readonly JsonValue[], committed: readonly RecordedEvent[]): Map<number, CommittedCreate> {
  const users = committed.filter((e) => typeof e.data.identityId === 'string' && typeof e.data.userName === 'string' && (e.type === 'UserProvisioned' || e.type === 'IdentityLinked'));
  const groups = committed.filter((e) => e.type === 'ScimGroupCreated' && typeof e.data.groupId === 'string');
  const used = new Set<RecordedEvent>();
  const made = new Map<number, CommittedCreate>();
  operations.forEach((raw, i) => {
    const data = isObject(raw) && raw.method === 'POST' ? raw.data : null;
    if (!isObject(raw) || !isObject(data)) return;
    const bulkId = typeof raw.bulkId === 'string' ? raw.bulkId : null;
    const path = typeof raw.path === 'string' ? raw.path.replace(/\/+$/, '') : '';
    if (path === '/Users' && typeof data.userName === 'string') {
      const name = fold(data.userName);
      const e = users.find((u) => !used.has(u) && fold(u.data.userName as string) === name);
      if (e) {
        used.add(e);
        made.set(i, { path, id: e.data.identityId as string, bulkId });
      }
    } else if (path === '/Groups' && typeof data.displayName === 'string') {
      const displayName = data.displayName;
      const e = groups.find((g) => !used.has(g) && g.data.displayName === displayName);
      if (e) {
        used.add(e);
        made.set(i, { path, id: e.data.groupId as string, bulkId });
      }
    }
  });
  return made;
}

const fold = (s: string): string => s.trim().normalize('NFC').toLowerCase();

/**
 * Replaces `bulkId:<id>` references to the given bulkIds (as the Bulk endpoint does with the
 * ids it created); references to others are left for the endpoint to resolve.
 */
function withBulkIds(value: JsonValue, ids: ReadonlyMap<string, string>): JsonValue {
  if (typeof value === 'string') return value.replace(/bulkId:([A-Za-z0-9_.-]+)/g, (ref, id: string) => ids.get(id) ?? ref);
  if (Array.isArray(value)) return value.map((v) => withBulkIds(v, ids));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withBulkIds(v, ids)]));
  return value;
}

function header(res: LightMyRequestResponse, name: string): string | undefined {
  const v = res.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function replyOf(res: LightMyRequestResponse): AsyncReply {
  const headers = Object.fromEntries(['content-type', 'location', 'etag'].flatMap((name) => (header(res, name) !== undefined ? [[name, header(res, name) as string]] : [])));
  return { status: res.statusCode, headers, body: res.body };
}

/** The request's outcome as RFC 7644 §3.7.3 bulk-response operations: a Bulk's own, or one. */
export function outcomes(
  request: AsyncRequestAccepted,
  status: number,
  locationHeader: string | undefined,
  etag: string | undefined,
  body: unknown,
  requestLocation: string,
): AsyncOperationOutcome[] {
  const operations = (body as { Operations?: unknown } | undefined)?.Operations;
  if (request.bulk && status === 200 && Array.isArray(operations)) {
    return operations.map((raw) => {
      const op = raw as Record<string, unknown>;
      return {
        method: String(op.method),
        status: String(op.status),
        bulkId: typeof op.bulkId === 'string' ? op.bulkId : null,
        location: typeof op.location === 'string' ? op.location : null,
        version: typeof op.version === 'string' ? op.version : null,
        response: isObject(op.response) ? op.response : null,
      };
    });
  }
  const failed = status >= 400;
  const metaLocation = (body as { meta?: { location?: unknown } } | undefined)?.meta?.location;
  return [
    {
      method: request.method,
      status: String(status),
      bulkId: null,
      // A created resource's address, or the one the request named; an error has none.
      location: failed || request.bulk ? null : (locationHeader ?? (typeof metaLocation === 'string' ? metaLocation : requestLocation)),
      version: failed ? null : (etag ?? null),
      response: failed && isObject(body) ? body : null,
    },
  ];
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
