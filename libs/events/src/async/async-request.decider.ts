import type { Decider } from '@app/decider';
import { type AsyncOperationOutcome, type AsyncRequestAccepted, type AsyncRequestCompleted, AsyncRequestEventTypes } from '../async-request.events';

/**
 * One asynchronous SCIM request (RFC 9967 §2.5), stream `async-request-<txn>`: accepted (durably,
 * before the 202), then completed once with the outcome of each operation. Acceptance and
 * completion are both safe to repeat: a retried append or a recovery that raced the live run
 * changes nothing, and the first recorded outcome is the one the client reads.
 */
export type AsyncRequestEvent =
  | { readonly type: typeof AsyncRequestEventTypes.accepted; readonly data: AsyncRequestAccepted }
  | { readonly type: typeof AsyncRequestEventTypes.completed; readonly data: AsyncRequestCompleted };

export type AsyncRequestCommand =
  | { readonly type: 'AcceptAsyncRequest'; readonly request: AsyncRequestAccepted }
  | { readonly type: 'CompleteAsyncRequest'; readonly txn: string; readonly operations: readonly AsyncOperationOutcome[] };

export type AsyncRequestState =
  | { readonly status: 'unknown' }
  | { readonly status: 'pending'; readonly request: AsyncRequestAccepted }
  | { readonly status: 'completed'; readonly request: AsyncRequestAccepted; readonly outcome: AsyncRequestCompleted };

/** A second, different request under a txn that is taken (txns are unique per request). */
export class AsyncRequestTxnTaken extends Error {
  constructor(readonly txn: string) {
    super(`The transaction id ${txn} already names another asynchronous request`);
  }
}

/** Completing a request that was never accepted, or with an outcome that does not fit it. */
export class InvalidAsyncCompletion extends Error {}

const sameRequest = (a: AsyncRequestAccepted, b: AsyncRequestAccepted): boolean =>
  a.scope === b.scope && a.tokenId === b.tokenId && a.method === b.method && a.url === b.url && JSON.stringify(a.body) === JSON.stringify(b.body);

export const asyncRequestDecider: Decider<AsyncRequestCommand, AsyncRequestEvent, AsyncRequestState> = {
  initialState: () => ({ status: 'unknown' }),

  evolve(state, event) {
    switch (event.type) {
      case AsyncRequestEventTypes.accepted:
        return state.status === 'unknown' ? { status: 'pending', request: event.data } : state;
      case AsyncRequestEventTypes.completed:
        return state.status === 'pending' ? { status: 'completed', request: state.request, outcome: event.data } : state;
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'AcceptAsyncRequest': {
        if (state.status === 'unknown') return [{ type: AsyncRequestEventTypes.accepted, data: command.request }];
        if (sameRequest(state.request, command.request)) return [];
        throw new AsyncRequestTxnTaken(command.request.txn);
      }
      case 'CompleteAsyncRequest': {
        if (state.status === 'unknown') throw new InvalidAsyncCompletion(`No asynchronous request ${command.txn} was accepted`);
        if (state.status === 'completed') return [];
        if (command.operations.length === 0) throw new InvalidAsyncCompletion('An asynchronous request completes with at least one operation');
        if (!state.request.bulk && command.operations.length !== 1) {
          throw new InvalidAsyncCompletion('A single (non-Bulk) request completes with exactly one operation');
        }
        return [
          {
            type: AsyncRequestEventTypes.completed,
            data: { txn: state.request.txn, scope: state.request.scope, operations: [...command.operations] },
          },
        ];
      }
    }
  },
};
