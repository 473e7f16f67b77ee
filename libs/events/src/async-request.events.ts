import type { JsonObject, JsonValue } from '@app/event-store';

/**
 * The contract between asynchronous SCIM requests (RFC 9967 §2.5) and the SCIM event feed:
 * an accepted request is one stream `async-request-<txn>`; its outcome, once it ran, is the
 * `AsyncRequestCompleted` event that the feed turns into `misc:asyncresp` SETs (one per
 * operation; for Bulk the SET's `txn` is `<txn>:<index>`).
 */
export const ASYNC_REQUEST_STREAM_PREFIX = 'async-request-';

export const asyncRequestStreamId = (txn: string): string => `${ASYNC_REQUEST_STREAM_PREFIX}${txn}`;

export interface AsyncRequestAccepted extends JsonObject {
  readonly txn: string;
  /** The SCIM scope key the request was made in (as the SCIM user streams name it). */
  readonly scope: string;
  /** Token id of the caller: only the same token may read the outcome. */
  readonly tokenId: string;
  readonly method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path relative to the scope's SCIM base, e.g. `/Users`, `/Users/<id>`, `/Bulk`. */
  readonly path: string;
  readonly bulk: boolean;
  /**
   * The rest is what running the request again after a crash needs (RFC 9967 §2.5: accepted
   * means it will complete). `url` is the request's path and query under the server root, as
   * received; `body` is the JSON body without any `password` value (the server drops passwords
   * anyway, and the log must never hold one); `ifMatch` the precondition it was sent with.
   */
  readonly url: string;
  readonly body: JsonValue;
  readonly ifMatch: string | null;
  readonly userAgent: string | null;
  /** The caller's token fingerprint prefix, as the audit trail records every actor. */
  readonly tokenSha256Prefix: string;
  /** The server instance (one per process start) that accepted the request and runs it first. */
  readonly acceptedBy: string;
}

/** One operation's outcome, shaped as an RFC 7644 §3.7 bulk response operation. */
export interface AsyncOperationOutcome extends JsonObject {
  readonly method: string;
  readonly status: string;
  readonly bulkId: string | null;
  readonly location: string | null;
  readonly version: string | null;
  /** Only on error: the SCIM error body. */
  readonly response: JsonObject | null;
}

export interface AsyncRequestCompleted extends JsonObject {
  readonly txn: string;
  readonly scope: string;
  readonly operations: AsyncOperationOutcome[];
}

export const AsyncRequestEventTypes = {
  accepted: 'AsyncRequestAccepted',
  completed: 'AsyncRequestCompleted',
} as const;
