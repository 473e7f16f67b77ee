import { Body, Controller, HttpCode, Inject, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { ScimError } from '@app/scim';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { AsyncRequestInterceptor } from './async/async-request.interceptor';
import { requestState, Scim, type ScimRequest } from '../infrastructure/request-context';
import { type BulkOperation, parseBulk } from './bulk-request';
import { scimPaths } from './scim-paths';

const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

/**
 * RFC 7644 §3.7 Bulk. Each operation is dispatched through the server's own HTTP pipeline
 * (fastify's inject), so it gets exactly the auth, validation, rules and errors the single
 * request would get — no second implementation of any endpoint. Operations run in order;
 * `bulkId:<id>` references are replaced by the ids created earlier in the same request.
 */
@Controller('api/scim/v2')
@UseGuards(ScimAuthGuard)
@UseInterceptors(AsyncRequestInterceptor)
export class BulkController {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post(scimPaths('Bulk'))
  @HttpCode(200)
  async bulk(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const { operations, failOnErrors } = parseBulk(body, this.config.bulkMaxOperations);
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const basePath = new URL(scim.baseUrl).pathname;
    const created = new Map<string, string>();
    const results: Record<string, unknown>[] = [];
    let errors = 0;
    for (const op of operations) {
      if (failOnErrors !== undefined && errors >= failOnErrors) break;
      const result = await this.run(fastify, scim, basePath, op, created);
      if (Number(result.status) >= 400) errors++;
      results.push(result);
    }
    return { schemas: [BULK_RESPONSE], Operations: results };
  }

  private async run(
    fastify: FastifyInstance,
    scim: ScimRequest,
    basePath: string,
    op: BulkOperation,
    created: Map<string, string>,
  ): Promise<Record<string, unknown>> {
    const echo = { method: op.method, ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}) };
    let path: string;
    let data: unknown;
    try {
      path = substitute(op.path, created) as string;
      data = substitute(op.data, created);
    } catch (err) {
      return { ...echo, status: '409', response: (err as ScimError).toJSON() };
    }
    const headers: Record<string, string> = {
      authorization: String(scim.req.headers.authorization ?? ''),
      // One request, one correlation id: every operation's events carry the Bulk's (its SCIM event `txn`).
      'x-request-id': requestState(scim.req).requestId,
      'content-type': 'application/scim+json',
      ...(op.version ? { 'if-match': op.version } : {}),
      ...(scim.req.headers['user-agent'] ? { 'user-agent': String(scim.req.headers['user-agent']) } : {}),
    };
    const res = await fastify.inject({
      method: op.method as 'POST',
      url: `${basePath}${path}`,
      headers,
      ...(data !== undefined && op.method !== 'DELETE' ? { payload: JSON.stringify(data) } : {}),
    });
    const response = res.body ? safeJson(res.body) : undefined;
    const location = res.headers.location as string | undefined;
    if (op.method === 'POST' && res.statusCode === 201 && op.bulkId && response && typeof response === 'object') {
      created.set(op.bulkId, String((response as { id: unknown }).id));
    }
    return {
      ...echo,
      ...(location ? { location } : {}),
      ...(res.headers.etag ? { version: res.headers.etag } : {}),
      status: String(res.statusCode),
      ...(res.statusCode >= 400 && response !== undefined ? { response } : {}),
    };
  }
}

/** Replaces `bulkId:<id>` references; an unknown reference fails that operation. */
function substitute(value: unknown, created: Map<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/bulkId:([A-Za-z0-9_.-]+)/g, (_, id: string) => {
      const resolved = created.get(id);
      if (resolved === undefined) throw new ScimError(409, 'invalidValue', `bulkId ${id} does not refer to a resource created earlier in this request`);
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, created));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, created)]));
  }
  return value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}


