import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { JsonObject } from '@app/event-store';
import type { AsyncExecution, AsyncOperationOutcome, AsyncRequestAccepted, AsyncRequestExecutor } from '@app/events';
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

  async execute(request: AsyncRequestAccepted): Promise<AsyncExecution> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const authorization = asyncRequestTickets.issue({ kind: 'scim', tokenId: request.tokenId, scope: request.scope, sha256Prefix: request.tokenSha256Prefix });
    try {
      const res = await fastify.inject({
        method: request.method,
        url: request.url,
        headers: {
          authorization,
          'x-request-id': request.txn,
          'content-type': 'application/scim+json',
          ...(request.ifMatch !== null ? { 'if-match': request.ifMatch } : {}),
          ...(request.userAgent !== null ? { 'user-agent': request.userAgent } : {}),
        },
        ...(request.body !== null && request.method !== 'DELETE' ? { payload: JSON.stringify(request.body) } : {}),
      });
      const header = (name: string) => (typeof res.headers[name] === 'string' ? (res.headers[name] as string) : undefined);
      const headers = Object.fromEntries(
        ['content-type', 'location', 'etag'].flatMap((name) => (header(name) !== undefined ? [[name, header(name) as string]] : [])),
      );
      const reply = { status: res.statusCode, headers, body: res.body };
      if (NOT_NOW.has(res.statusCode)) return { reply };
      const location = `${this.config.publicUrl}${request.url.split('?')[0]}`;
      return { reply, operations: outcomes(request, res.statusCode, header('location'), header('etag'), parse(res.body), location) };
    } finally {
      asyncRequestTickets.revoke(authorization);
    }
  }
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
