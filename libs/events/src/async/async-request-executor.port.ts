import type { RecordedEvent } from '@app/event-store';
import type { AsyncOperationOutcome, AsyncRequestAccepted } from '../async-request.events';

/** The answer the request would have had synchronously: what a client that waits (`Prefer: wait`) gets. */
export interface AsyncReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface AsyncExecution {
  /**
   * The outcome to record, one bulk-response operation per operation; absent when the request
   * could not run now (the store is unavailable): it stays pending and recovery runs it later.
   */
  readonly operations?: readonly AsyncOperationOutcome[];
  readonly reply: AsyncReply;
}

/**
 * Runs an accepted request through the server's normal request path, with the caller's
 * authority and the request's txn as its correlation id. The application provides it: only
 * it knows the HTTP pipeline a request goes through.
 */
export interface AsyncRequestExecutor {
  /** `committed`: events that already carry the request's txn (its write committed before a crash); empty on a first run. */
  execute(request: AsyncRequestAccepted, committed?: readonly RecordedEvent[]): Promise<AsyncExecution>;
}

export const ASYNC_REQUEST_EXECUTOR = Symbol('ASYNC_REQUEST_EXECUTOR');
