import { describe, expect, it } from '@jest/globals';
import { openSqliteDatabase, SqliteEventStore } from '@app/event-store/adapters';
import type { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { SetStreams } from './set-streams.service';

const clock = { now: () => new Date('2026-03-01T00:00:00.000Z') };
const ryw = { wrote: () => undefined } as unknown as ReadYourWrites;

describe('SetStreams.progress: delivery progress read backwards to the last settled floor', () => {
  it('gives the floor and the acknowledgements above it after hundreds of delivery events', async () => {
    const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
    const streams = new SetStreams(store, clock, {} as ProjectionRunner, ryw);
    for (let p = 1; p <= 250; p++) await streams.recordProgress('s', { type: 'SetsSettled', data: { position: String(p), index: 0 } });
    // Out-of-order acks, then a floor that carries the one above it.
    await streams.recordProgress('s', { type: 'SetsAcknowledged', data: { jtis: ['s.252.0', 's.260.0'] } });
    await streams.recordProgress('s', { type: 'SetsSettled', data: { position: '252', index: 0, ackedAbove: ['s.260.0'] } });
    await streams.recordProgress('s', { type: 'SetsAcknowledged', data: { jtis: ['s.270.0'] } });
    const progress = await streams.progress('s');
    expect(progress.floor).toEqual({ position: 252n, index: 0 });
    expect([...progress.acked].sort()).toEqual(['s.260.0', 's.270.0']);
    expect(progress.revision).toBe(252n);
    await store.close();
  });

  it('is empty for a stream nothing was delivered on', async () => {
    const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
    const progress = await new SetStreams(store, clock, {} as ProjectionRunner, ryw).progress('none');
    expect(progress).toEqual({ floor: null, acked: new Set(), revision: -1n });
    await store.close();
  });
});
