import { randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@app/auth';
import type { CommandContext, ScopeId } from '@app/identity';
import type { FastifyRequest } from 'fastify';

/** What the guards learn about a request, carried on it for controllers and the error filter. */
export interface RequestState {
  requestId: string;
  principal?: Principal;
  /** SCIM routes: the scope the URL names and the token may act in. */
  scope?: ScopeId;
  /** SCIM routes: absolute base URL of the scope, for meta.location. */
  scimBaseUrl?: string;
  /** The bearer token's principal, looked up once (see authenticate-request.ts). */
  authentication?: Promise<Principal | undefined>;
}

export type AppRequest = FastifyRequest & { state?: RequestState };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestState(req: AppRequest): RequestState {
  if (!req.state) {
    // Fastify assigns req.id from X-Request-Id (or a fresh UUID); reuse it when it is sane.
    const id = typeof req.id === 'string' && REQUEST_ID.test(req.id) ? req.id : randomUUID();
    req.state = { requestId: id };
  }
  return req.state;
}

export function commandContext(req: AppRequest, status?: number, reason?: string): CommandContext {
  const state = requestState(req);
  const p = state.principal;
  const actor: CommandContext['actor'] = !p
    ? { kind: 'system', id: 'system' }
    : p.kind === 'scim'
      ? { kind: 'scim_token', id: p.tokenId, tokenId: p.tokenId, tokenSha256Prefix: p.sha256Prefix }
      : { kind: p.role, id: p.tokenId, tokenId: p.tokenId, tokenSha256Prefix: p.sha256Prefix };
  const userAgent = req.headers['user-agent'];
  return {
    correlationId: state.requestId,
    commandId: randomUUID(),
    actor,
    request: {
      method: req.method,
      path: auditablePath(req),
      ...(status !== undefined ? { status } : {}),
      ...(typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, 256) } : {}),
      ...(req.ip ? { ip: req.ip } : {}),
    },
    ...(reason ? { reason } : {}),
  };
}

/** The SCIM scope and base URL the guard resolved. */
export const Scim = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<AppRequest>();
  const state = requestState(req);
  if (!state.scope || !state.scimBaseUrl) throw new Error('SCIM route without the SCIM guard');
  return { scope: state.scope, baseUrl: state.scimBaseUrl, req };
});

export interface ScimRequest {
  readonly scope: ScopeId;
  readonly baseUrl: string;
  readonly req: AppRequest;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Route parameters that name organisation data (group paths), not people. */
const ORGANISATION_PARAMS = new Set(['groupPath', 'fullPath']);

/**
 * The request path as the audit trail keeps it: the route's own segments, ids that are UUIDs
 * and group paths; any other parameter (a user id that is really an email address, anything a
 * client typed) becomes its `:name`, because audit records reach auditors without the `pii`
 * right unmasked. A request no route matched keeps no path at all.
 */
export function auditablePath(req: AppRequest): string {
  const template = req.routeOptions?.url;
  if (!template) return '(no route)';
  const params = (req.params ?? {}) as Record<string, unknown>;
  return template
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment;
      const name = segment.slice(1);
      const value = params[name];
      return typeof value === 'string' && (UUID.test(value) || ORGANISATION_PARAMS.has(name)) ? encodeURIComponent(value) : segment;
    })
    .join('/')
    .slice(0, 512);
}
