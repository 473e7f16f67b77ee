import { describe, expect, it } from '@jest/globals';
import type { JsonObject, RecordedEvent } from '@app/event-store';
import type { FeedEntry } from '../sets/security-events.mapping';
import { ScimEventUri } from '../sets/scim-event-uris';
import { DeliveryMethod } from '../streams/stream.events';
import { deliveryProgressOf, setFor, streamViewOf } from './delivery.state';

const T = '2026-03-01T00:00:00.000Z';
const streamId = 's-1';
const scope = 'application';
const config = { audience: 'aud', eventsRequested: [], method: DeliveryMethod.poll, endpointUrl: null, authorizationHeader: null, alg: 'EdDSA', description: null, issuer: 'https://iss' };

const rec = (stream: string, position: bigint, revision: bigint, type: string, data: JsonObject): RecordedEvent => ({
  id: `e${position}`,
  streamId: stream,
  revision,
  position,
  type,
  data,
  metadata: { occurredAt: T },
  recordedAt: new Date(T),
});

const entry = (position: bigint, userId = 'u-1'): FeedEntry => ({
  position,
  index: 0,
  scope,
  txn: 't',
  toe: 1,
  subject: { resource: 'Users', id: userId },
  subId: { format: 'scim', uri: `/Users/${userId}` },
  notice: { [ScimEventUri.delete]: {} },
  full: {},
});

describe('what a stream delivers', () => {
  const created = rec(`setStream-${streamId}`, 10n, 0n, 'SetStreamCreated', { streamId, scope, ...config });
  const status = (position: bigint, revision: bigint, s: string) => rec(`setStream-${streamId}`, position, revision, 'SetStreamStatusChanged', { streamId, scope, status: s, reason: null });

  it('only SETs after the stream was created', () => {
    const view = streamViewOf([created]);
    expect(setFor(entry(9n), view)).toBeUndefined();
    expect(setFor(entry(11n), view)?.jti).toBe('s-1.11.0');
  });

  it('drops what happened while it was disabled, and delivers again once enabled', () => {
    const view = streamViewOf([created, status(20n, 1n, 'disabled'), status(30n, 2n, 'enabled')]);
    expect([15n, 25n, 35n].map((p) => setFor(entry(p), view) !== undefined)).toEqual([true, false, true]);
  });

  it('skips a removed subject', () => {
    const removed = rec(`setStream-${streamId}`, 12n, 1n, 'SetStreamSubjectRemoved', { streamId, scope, subject: { resource: 'Users', id: 'u-2' } });
    const view = streamViewOf([created, removed]);
    expect(setFor(entry(20n, 'u-2'), view)).toBeUndefined();
    expect(setFor(entry(20n, 'u-1'), view)).toBeDefined();
  });

  it('acknowledgements below the settled floor are forgotten, those above kept', () => {
    const progress = deliveryProgressOf(streamId, [
      rec(`setDelivery-${streamId}`, 40n, 0n, 'SetsAcknowledged', { jtis: ['s-1.11.0', 's-1.15.0', 's-1.30.0'] }),
      rec(`setDelivery-${streamId}`, 41n, 1n, 'SetsSettled', { position: '15', index: 0 }),
    ]);
    expect(progress.floor).toEqual({ position: 15n, index: 0 });
    expect([...progress.acked]).toEqual(['s-1.30.0']);
  });

  it('the last delivery is when the newest acknowledgement or settlement was recorded; none before the first', () => {
    const at = (r: RecordedEvent, iso: string): RecordedEvent => ({ ...r, recordedAt: new Date(iso) });
    const progress = deliveryProgressOf(streamId, [
      at(rec(`setDelivery-${streamId}`, 40n, 0n, 'SetsSettled', { position: '15', index: 0 }), '2026-03-01T10:00:00.000Z'),
      at(rec(`setDelivery-${streamId}`, 41n, 1n, 'SetsAcknowledged', { jtis: ['s-1.30.0'] }), '2026-03-01T11:00:00.000Z'),
    ]);
    expect(progress.lastAt).toBe('2026-03-01T11:00:00.000Z');
    expect(deliveryProgressOf(streamId, []).lastAt).toBeUndefined();
  });
});
