import {
  AppendTooLargeError,
  StoreAccessDeniedError,
  StoreUnavailableError,
  StreamDeletedError,
} from '@app/event-store';
import { NothingToCommit } from '@app/identity';
import { mapError } from './error-mapping';

describe('mapError for event-store refusals', () => {
  it.each([
    ['an append larger than the store takes', new AppendTooLargeError('account-1', 1048576), 413, 'append_too_large'],
    ['the store denying our credentials', new StoreAccessDeniedError('denied'), 503, 'store_access_denied'],
    ['a stream deleted in the store by hand', new StreamDeletedError('account-1'), 409, 'stream_deleted'],
    ['the store not answering', new StoreUnavailableError('down'), 503, 'store_unavailable'],
  ])('answers %s with its own status', (_label, error, status, reason) => {
    expect(mapError(error)).toMatchObject({ status, reason });
  });
});

describe('mapError for a commit with nothing to write', () => {
  it('answers a refusal, not an unexpected 500', () => {
    expect(mapError(new NothingToCommit())).toEqual({ status: 400, detail: 'The request changes nothing', reason: 'nothing_to_commit' });
  });
});
