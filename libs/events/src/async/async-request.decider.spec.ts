import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '@app/decider/testing';
import type { AsyncOperationOutcome, AsyncRequestAccepted } from '../async-request.events';
import { type AsyncRequestEvent, AsyncRequestTxnTaken, asyncRequestDecider, InvalidAsyncCompletion } from './async-request.decider';

const spec = DeciderSpecification.for(asyncRequestDecider);

const request: AsyncRequestAccepted = {
  txn: 't-1',
  scope: 'instance',
  tokenId: 'tok-1',
  method: 'POST',
  path: '/Users',
  bulk: false,
  url: '/api/scim/v2/application/Users',
  body: { userName: 'ada@example.com' },
  ifMatch: null,
  userAgent: null,
  tokenSha256Prefix: 'abcd1234',
  acceptedBy: 'instance-a',
};
const bulk: AsyncRequestAccepted = { ...request, txn: 't-2', path: '/Bulk', url: '/api/scim/v2/application/Bulk', bulk: true, body: { Operations: [] } };
const created: AsyncOperationOutcome = { method: 'POST', status: '201', bulkId: null, location: 'https://x/Users/u-1', version: 'W/"0"', response: null };
const refused: AsyncOperationOutcome = { method: 'POST', status: '409', bulkId: 'b2', location: null, version: null, response: { status: '409', scimType: 'uniqueness' } };

const accepted = (r: AsyncRequestAccepted): AsyncRequestEvent => ({ type: 'AsyncRequestAccepted', data: r });
const completed = (r: AsyncRequestAccepted, operations: AsyncOperationOutcome[]): AsyncRequestEvent => ({
  type: 'AsyncRequestCompleted',
  data: { txn: r.txn, scope: r.scope, operations },
});

describe('async request decider', () => {
  describe('accept', () => {
    it('accepts a new request as one event carrying everything needed to run it again', () => {
      spec.given([]).when({ type: 'AcceptAsyncRequest', request }).then([accepted(request)]);
    });

    it('treats the same request accepted again (a retried append) as done', () => {
      spec.given([accepted(request)]).when({ type: 'AcceptAsyncRequest', request }).thenNothingHappened();
      spec.given([accepted(request), completed(request, [created])]).when({ type: 'AcceptAsyncRequest', request }).thenNothingHappened();
    });

    it('refuses a different request under a txn that is taken', () => {
      spec
        .given([accepted(request)])
        .when({ type: 'AcceptAsyncRequest', request: { ...request, body: { userName: 'eve@example.com' } } })
        .thenThrows(AsyncRequestTxnTaken, (e) => e.txn === 't-1');
    });
  });

  describe('complete', () => {
    it('records the outcome of a single request as one bulk-response-shaped operation', () => {
      spec
        .given([accepted(request)])
        .when({ type: 'CompleteAsyncRequest', txn: 't-1', operations: [created] })
        .then([completed(request, [created])]);
    });

    it('records one outcome per Bulk operation, errors included, in order', () => {
      spec
        .given([accepted(bulk)])
        .when({ type: 'CompleteAsyncRequest', txn: 't-2', operations: [created, refused] })
        .then([completed(bulk, [created, refused])]);
    });

    it('keeps the first outcome: a second completion (a recovery that raced the live run) changes nothing', () => {
      spec
        .given([accepted(request), completed(request, [created])])
        .when({ type: 'CompleteAsyncRequest', txn: 't-1', operations: [refused] })
        .thenNothingHappened();
    });

    it('refuses to complete a request that was never accepted, or with an outcome that does not fit it', () => {
      spec.given([]).when({ type: 'CompleteAsyncRequest', txn: 't-1', operations: [created] }).thenThrows(InvalidAsyncCompletion);
      spec.given([accepted(request)]).when({ type: 'CompleteAsyncRequest', txn: 't-1', operations: [] }).thenThrows(InvalidAsyncCompletion);
      spec.given([accepted(request)]).when({ type: 'CompleteAsyncRequest', txn: 't-1', operations: [created, created] }).thenThrows(InvalidAsyncCompletion);
    });
  });
});
