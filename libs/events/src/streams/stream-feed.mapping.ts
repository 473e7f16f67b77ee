import type { RecordedEvent } from '@app/event-store';
import type { FeedEntry } from '../sets/security-events.mapping';
import { txnOf } from '../sets/security-events.mapping';
import { ScimEventUri, SSF_VERIFICATION_URI } from '../sets/scim-event-uris';
import { streamEvents } from './stream.events';

/**
 * The SETs a stream's own events yield, for that stream only: `feed:add` / `feed:remove` when
 * its subjects change (RFC 9967 §2.4) and the SSF verification event (SSF 1.0 §8.1.4).
 */
export function streamFeedEntries(e: RecordedEvent): FeedEntry[] {
  const event = streamEvents.decode(e);
  if (!event) return [];
  const base = { position: e.position, index: 0, scope: event.data.scope, streamId: event.data.streamId, txn: txnOf(e), toe: Math.floor(Date.parse(event.occurredAt) / 1000), full: {} };
  switch (event.type) {
    case 'SetStreamSubjectAdded':
    case 'SetStreamSubjectRemoved': {
      const { resource, id } = event.data.subject;
      const uri = event.type === 'SetStreamSubjectAdded' ? ScimEventUri.feedAdd : ScimEventUri.feedRemove;
      return [{ ...base, subId: { format: 'scim', uri: `/${resource}/${id}` }, notice: { [uri]: {} } }];
    }
    case 'SetStreamVerificationRequested':
      return [
        {
          ...base,
          subId: { format: 'opaque', id: event.data.streamId },
          notice: { [SSF_VERIFICATION_URI]: event.data.state !== null ? { state: event.data.state } : {} },
        },
      ];
    default:
      return [];
  }
}
