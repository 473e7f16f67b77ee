import type { AppendResult, EventStore } from '@app/event-store';
import { trackWrites } from './tracking-event-store';

describe('trackWrites', () => {
  const result: AppendResult = { nextExpectedRevision: 0n, position: 7n };
  const store = { name: 'sqlite', supportsMultiStreamAppend: true, appendMulti: async () => result, append: async () => result } as unknown as EventStore;
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('reports an append that is applied in its transaction at once', async () => {
    const wrote: bigint[] = [];
    await trackWrites(store, (p) => wrote.push(p), () => undefined).append('s', [], 'any');
    expect(wrote).toEqual([7n]);
  });

  it('reports an append it waits for only once applied, so that no other query waits for it meanwhile', async () => {
    const wrote: bigint[] = [];
    let apply!: (ok: boolean) => void;
    const applied = new Promise<boolean>((resolve) => (apply = resolve));
    let acknowledged = false;
    const append = trackWrites(store, (p) => wrote.push(p), () => applied)
      .appendMulti([{ streamId: 's', expectedRevision: 'any', events: [] }])
      .then(() => (acknowledged = true));
    await turn();
    expect(wrote).toEqual([]);
    expect(acknowledged).toBe(false);
    apply(true);
    await append;
    expect(wrote).toEqual([7n]);
  });

  it('reports an append whose wait ran out, so that queries still wait for it', async () => {
    const wrote: bigint[] = [];
    await trackWrites(store, (p) => wrote.push(p), () => Promise.resolve(false)).append('s', [], 'any');
    expect(wrote).toEqual([7n]);
  });
});
