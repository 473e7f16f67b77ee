import { randomUUID } from 'node:crypto';
import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { from, type Observable } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { JsonValue } from '@app/event-store';
import { AcceptAsyncRequestCommand, type AsyncExecution, type AsyncRequestAccepted, AsyncRequestRunner } from '@app/events';
import { ResourceNotFound } from '@app/identity';
import { normalizeGroupInput, normalizeUserInput, parsePatchBody, ScimError } from '@app/scim';
import { type AppRequest, commandContext, requestState } from '../../infrastructure/request-context';
import { parseBulk } from '../bulk-request';
import { isUuid } from '../scim-paths';
import { parsePrefer, preferredWaitMs } from './prefer-header';

const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The resource part of a SCIM write URL: what the request names under its scope's base. */
const RESOURCE_PATH = /\/(?:Users|Groups|Bulk)(?:\/[^/?#]*)?$/;
/** The longest a client may make the server hold a request with `Prefer: wait` (RFC 7240 §4.3). */
const MAX_WAIT_MS = 60_000;

/**
 * `Prefer: respond-async` (RFC 9967 §2.5, RFC 7240) on a SCIM write: once the request is durably
 * accepted (an event), answer 202 with `Set-Txn`, `Preference-Applied` and `Location`, and run
 * it through the normal path in the background with the txn as its correlation id. With
 * `wait=N` as well, a request that finishes within N seconds gets its normal answer instead.
 * Its syntax is checked before the 202 (a malformed body is a 400 now, and nothing is
 * accepted); its domain outcome (409, 404, 412…) is the recorded outcome. Without the
 * preference nothing changes.
 */
@Injectable()
export class AsyncRequestInterceptor implements NestInterceptor {
  constructor(
    private readonly commands: CommandBus,
    private readonly runner: AsyncRequestRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<AppRequest>();
    const prefs = parsePrefer(req.headers.prefer);
    const route = req.routeOptions?.url ?? '';
    if (!METHODS.has(req.method) || route.endsWith('.search') || !prefs.has('respond-async')) return next.handle();
    return from(this.accept(req, context.switchToHttp().getResponse<FastifyReply>(), preferredWaitMs(prefs, MAX_WAIT_MS)));
  }

  private async accept(req: AppRequest, reply: FastifyReply, waitMs: number): Promise<unknown> {
    const state = requestState(req);
    const principal = state.principal;
    if (!state.scope || !state.scimBaseUrl || principal?.kind !== 'scim') throw new Error('asynchronous SCIM request without the SCIM guard');
    const pathname = req.url.split('?')[0]!;
    const path = RESOURCE_PATH.exec(pathname)?.[0] ?? pathname;
    this.checkSyntax(req.method, path, req.body);
    // A client-chosen X-Request-Id may repeat; a txn names one request only.
    const txn = req.headers['x-request-id'] === undefined ? state.requestId : randomUUID();
    const ifMatch = req.headers['if-match'];
    const userAgent = req.headers['user-agent'];
    const request: AsyncRequestAccepted = {
      txn,
      scope: state.scope,
      tokenId: principal.tokenId,
      method: req.method as AsyncRequestAccepted['method'],
      path,
      bulk: path === '/Bulk',
      url: req.url,
      body: req.body === undefined ? null : withoutPasswords(req.body as JsonValue),
      ifMatch: typeof ifMatch === 'string' ? ifMatch : null,
      userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 256) : null,
      tokenSha256Prefix: principal.sha256Prefix,
      acceptedBy: this.runner.instanceId,
    };
    await this.commands.execute(new AcceptAsyncRequestCommand(request, { ...commandContext(req, 202), correlationId: txn }));
    const done = this.runner.start(request);
    const finished = waitMs > 0 ? await within(done, waitMs) : undefined;
    if (finished) return this.answerNow(reply, finished);
    void reply
      .status(202)
      .header('Set-Txn', txn)
      .header('Preference-Applied', 'respond-async')
      .header('Location', `${state.scimBaseUrl}/AsyncRequests/${txn}`);
    return undefined;
  }

  /** Finished within the client's `wait`: the answer the request would have had. */
  private answerNow(reply: FastifyReply, execution: AsyncExecution): string {
    void reply.status(execution.reply.status);
    for (const [name, value] of Object.entries(execution.reply.headers)) void reply.header(name, value);
    return execution.reply.body;
  }

  /** What the synchronous endpoint would refuse as malformed, refused before anything is accepted. */
  private checkSyntax(method: string, path: string, body: unknown): void {
    // Ids are UUIDs; anything else is simply not found (and no client text reaches the log's path).
    const [, type, id] = path.split('/');
    if (id !== undefined && !isUuid(id)) throw new ResourceNotFound(type === 'Groups' ? 'Group' : 'User', id);
    if (method === 'DELETE') return;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ScimError.invalidSyntax('The request body must be a JSON object');
    if (path === '/Bulk') parseBulk(body, this.config.bulkMaxOperations);
    else if (method === 'PATCH') parsePatchBody(body);
    else if (path.startsWith('/Users')) normalizeUserInput(body);
    else normalizeGroupInput(body);
  }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const PASSWORD_PATH = /(^|:)password$/i;

/**
 * The body as the log keeps it: every password value replaced. The server never stores a
 * password (it accepts and drops it), so a rerun behaves the same; the log must never hold one.
 */
export function withoutPasswords(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutPasswords);
  if (typeof value !== 'object' || value === null) return value;
  const isPasswordOp = typeof value.path === 'string' && PASSWORD_PATH.test(value.path.trim());
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k.toLowerCase() === 'password' || (isPasswordOp && k.toLowerCase() === 'value') ? '(not stored)' : withoutPasswords(v)]),
  );
}
