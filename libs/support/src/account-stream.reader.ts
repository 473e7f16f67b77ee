import { type EventStore, type RecordedEvent, StreamNotFoundError } from '@app/event-store';
import { accountStream, ResourceNotFound } from '@app/identity';

const STREAM_PAGE = 500;

/**
 * The whole account stream, read a page at a time with a turn of the event loop between pages:
 * an account with a history of tens of thousands of events must not stall other requests.
 */
export async function readAccountStream(store: EventStore, accountId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  try {
    for (let from = 0n; ; ) {
      const page = await store.readStream(accountStream(accountId), { fromRevision: from, maxCount: STREAM_PAGE });
      out.push(...page);
      if (page.length < STREAM_PAGE) return out;
      from = page[page.length - 1].revision + 1n;
      await new Promise((r) => setImmediate(r));
    }
  } catch (err) {
    if (err instanceof StreamNotFoundError) throw new ResourceNotFound('Account', accountId);
    throw err;
  }
}
