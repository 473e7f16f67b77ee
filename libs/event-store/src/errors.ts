import type { ExpectedRevision } from './event-store.port';

export abstract class EventStoreError extends Error {
  override readonly name: string = this.constructor.name;
}

/** The stream was not in the state the writer expected. Nothing was written. */
export class WrongExpectedRevisionError extends EventStoreError {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** Current revision, or -1n when the stream does not exist. */
    readonly actual: bigint,
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${actual}`);
  }
}

export class StreamNotFoundError extends EventStoreError {
  constructor(readonly streamId: string) {
    // An answer, not a fault: most reads of a create find no reservation stream, and a stack
    // trace (with its async frames) would cost more than the read itself.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(`Stream ${streamId} not found`);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

/** The store cannot be reached or is shutting down; the HTTP layer answers 503. */
export class StoreUnavailableError extends EventStoreError {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

export class UnsupportedOperationError extends EventStoreError {}

/** A log copy found something else at a position it copies to; that batch wrote nothing. */
export class LogImportConflictError extends EventStoreError {
  constructor(
    readonly position: bigint,
    found: string,
  ) {
    super(`The target store holds, at position ${position}, ${found}: it must be empty or an earlier copy of this same log`);
  }
}

/**
 * The store refused an append as too large (EventStoreDB's MaxAppendSize, 1 MiB by default,
 * which an envelope-carrying SCIM body near MAX_PAYLOAD_BYTES can exceed). Nothing was written.
 */
export class AppendTooLargeError extends EventStoreError {
  constructor(
    readonly streamId: string,
    readonly maxAppendSize?: number,
  ) {
    super(`Append to ${streamId} exceeds the store's maximum append size${maxAppendSize ? ` (${maxAppendSize} bytes)` : ''}`);
  }
}

/** The stream was deleted (or tombstoned) in the store by someone else; we never delete streams. */
export class StreamDeletedError extends EventStoreError {
  constructor(readonly streamId: string) {
    super(`Stream ${streamId} was deleted in the event store`);
  }
}

/** The store refused our credentials or their rights: an operator must fix the configuration. */
export class StoreAccessDeniedError extends EventStoreError {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

export function describeExpected(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}
