import { HttpException } from '@nestjs/common';
import {
  AppendTooLargeError,
  StoreAccessDeniedError,
  StoreUnavailableError,
  StreamDeletedError,
  WrongExpectedRevisionError,
} from '@app/event-store';
import {
  Conflict,
  DomainError,
  Forbidden,
  InvalidCommand,
  LastOwnerViolation,
  PreconditionFailed,
  ResourceNotFound,
  UniquenessViolation,
} from '@app/identity';
import { PersonErasedError } from '@app/privacy';
import { ScanQueueFull } from '@app/read-models';
import { ScimError, type ScimType } from '@app/scim';
import { AuthenticationRequired, RoleForbidden } from './auth-errors';
import { isStoreFull } from './store-space';

export interface MappedError {
  readonly status: number;
  readonly scimType?: ScimType;
  readonly detail: string;
  /** Machine-readable reason for logs and ProvisioningRejected. */
  readonly reason: string;
  readonly attribute?: string;
  /** The resource the refusal concerns (e.g. who holds a taken userName), for the audit trail only. */
  readonly targetId?: string;
  readonly headers?: Record<string, string>;
  /** Unexpected: log with stack, answer without it. */
  readonly unexpected?: boolean;
}

/**
 * The one place that turns errors into HTTP answers. Domain errors and protocol errors
 * keep their own vocabulary; this maps them to RFC 7644 statuses and scimTypes. Details
 * never carry request values, so no personal data leaks into responses or logs.
 */
export function mapError(error: unknown): MappedError {
  if (error instanceof ScimError) {
    return { status: error.status, scimType: error.scimType, detail: error.detail, reason: error.scimType ?? 'invalid', attribute: error.attribute };
  }
  if (error instanceof AuthenticationRequired) {
    return { status: 401, detail: error.detail, reason: 'unauthenticated', headers: { 'WWW-Authenticate': 'Bearer' } };
  }
  if (error instanceof RoleForbidden) return { status: 403, detail: error.detail, reason: 'forbidden' };
  if (error instanceof DomainError) return mapDomainError(error);
  // A write that raced an erasure: the person is gone, as a 404 says.
  if (error instanceof PersonErasedError) return { status: 404, detail: 'Resource not found', reason: 'not_found' };
  if (error instanceof ScanQueueFull) {
    // This tenant's own backlog of full scans: the others are served meanwhile.
    return { status: 429, detail: error.message, reason: 'scans_queued', headers: { 'Retry-After': '1' } };
  }
  if (error instanceof StoreUnavailableError) {
    return { status: 503, detail: 'The event store is unavailable; retry later', reason: 'store_unavailable', headers: { 'Retry-After': '1' } };
  }
  if (isStoreFull(error)) {
    // Nothing was written (SQLite rolled the transaction back); the same request succeeds
    // once the operator frees space.
    return {
      status: 507,
      detail: 'The store is out of disk space and wrote nothing; retry once space is freed',
      reason: 'store_full',
      headers: { 'Retry-After': '30' },
    };
  }
  if (error instanceof AppendTooLargeError) {
    // EventStoreDB's maximum append (1 MiB by default) can be below MAX_PAYLOAD_BYTES once the
    // event envelope is added: the change is too large for the store, nothing was written.
    return { status: 413, detail: 'The change is larger than the event store accepts in one write', reason: 'append_too_large' };
  }
  if (error instanceof StoreAccessDeniedError) {
    // Our credentials at the store: an operator's fix, not the client's; logged as unexpected.
    return { status: 503, detail: 'The event store is unavailable; retry later', reason: 'store_access_denied', headers: { 'Retry-After': '1' }, unexpected: true };
  }
  if (error instanceof StreamDeletedError) {
    // We never delete streams: someone deleted one in the store by hand. Logged as unexpected.
    return { status: 409, detail: 'The resource was deleted in the event store and cannot be changed', reason: 'stream_deleted', unexpected: true };
  }
  if (error instanceof WrongExpectedRevisionError) {
    return { status: 409, detail: 'Concurrent modification; retry the request', reason: 'conflict' };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const detail =
      status === 404
        ? 'Not found'
        : status === 405
          ? 'Method not allowed'
          : status === 429
            ? 'Too many requests'
            : status === 413
              ? 'Request body too large'
              : status < 500
                ? 'Bad request'
                : 'Internal error';
    return { status, detail, reason: `http_${status}`, ...(status === 400 ? { scimType: 'invalidSyntax' as const } : {}) };
  }
  const fastify = error as { statusCode?: number; code?: string };
  if (typeof fastify.statusCode === 'number' && typeof fastify.code === 'string' && fastify.code.startsWith('FST_')) {
    return mapFastifyError(fastify.statusCode, fastify.code);
  }
  return { status: 500, detail: 'Internal server error', reason: 'internal', unexpected: true };
}

function mapDomainError(error: DomainError): MappedError {
  if (error instanceof UniquenessViolation) {
    return {
      status: 409,
      scimType: 'uniqueness',
      detail: error.message,
      reason: `uniqueness_${error.kind}`,
      attribute: error.kind,
      ...(error.holderId ? { targetId: error.holderId } : {}),
    };
  }
  if (error instanceof ResourceNotFound) return { status: 404, detail: `${error.resource} not found`, reason: 'not_found' };
  if (error instanceof PreconditionFailed) return { status: 412, detail: error.message, reason: 'precondition_failed' };
  if (error instanceof LastOwnerViolation) return { status: 409, detail: error.message, reason: 'last_owner' };
  if (error instanceof InvalidCommand) {
    return { status: 400, scimType: 'invalidValue', detail: error.message, reason: 'invalid_value', attribute: error.attribute };
  }
  if (error instanceof Conflict) return { status: 409, detail: error.message, reason: 'conflict' };
  if (error instanceof Forbidden) return { status: 403, detail: error.message, reason: 'forbidden' };
  return { status: 400, detail: error.message, reason: error.reason };
}

function mapFastifyError(statusCode: number, code: string): MappedError {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, detail: 'Request body exceeds the maximum payload size', reason: 'payload_too_large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, detail: 'Content-Type must be application/scim+json or application/json', reason: 'unsupported_media_type' };
    case 'FST_ERR_RATE_LIMITED':
      return { status: 429, detail: 'Too many requests for this token (or, without a valid token, from this address); retry after the time in Retry-After', reason: 'rate_limited' };
    case 'FST_ERR_NOT_FOUND':
      return { status: 404, detail: 'Not found', reason: 'not_found' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, scimType: 'invalidSyntax', detail: 'Request body is empty or malformed', reason: 'invalid_syntax' };
    default:
      return statusCode >= 500
        ? { status: 500, detail: 'Internal server error', reason: 'internal', unexpected: true }
        : { status: statusCode, scimType: statusCode === 400 ? 'invalidSyntax' : undefined, detail: 'Malformed request', reason: code.toLowerCase() };
  }
}
