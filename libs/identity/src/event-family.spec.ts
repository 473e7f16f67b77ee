import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@app/event-store';
import { eventFamily } from './event-family';

type Pet = { type: 'Adopted'; data: { name: string } } | { type: 'Renamed'; data: { name: string } };
const pets = eventFamily<Pet>(['Adopted', 'Renamed']);

const recorded = (type: string, data: object, metadata: object = {}): RecordedEvent =>
  ({ id: 'e', streamId: 's', type, data, metadata, revision: 0n, position: 0n, recordedAt: new Date('2026-01-02T03:04:05.000Z') }) as unknown as RecordedEvent;

describe('eventFamily', () => {
  it('decodes its own types with the time the command gave, and skips the types of other families', () => {
    const log = [
      recorded('Adopted', { name: 'Rex' }, { occurredAt: '2026-01-01T00:00:00.000Z' }),
      recorded('TokenIssued', { id: 't' }),
      recorded('Renamed', { name: 'Max' }),
    ];
    expect(pets.decodeAll(log)).toStrictEqual([
      { type: 'Adopted', data: { name: 'Rex' }, occurredAt: '2026-01-01T00:00:00.000Z' },
      // Written before occurredAt was recorded: the store's time stands in.
      { type: 'Renamed', data: { name: 'Max' }, occurredAt: '2026-01-02T03:04:05.000Z' },
    ]);
    expect(pets.decode(log[1])).toBeUndefined();
  });

  it('encodes the time into the metadata so the stored payload is exactly the data', () => {
    const data = pets.encode({ type: 'Renamed', data: { name: 'Max' }, occurredAt: '2026-01-01T00:00:00.000Z' }, { scope: 'instance' }, 'id-1');
    expect(data).toStrictEqual({ id: 'id-1', type: 'Renamed', data: { name: 'Max' }, metadata: { scope: 'instance', occurredAt: '2026-01-01T00:00:00.000Z' } });
  });
});
