import fc from 'fast-check';
import { type StreamIdPage, StreamExistenceFilter } from './stream-existence-filter';

/** The store's side: stored ids served in order, a page at a time; `calls` records each read. */
function storedIds(stored: string[], calls: number[] = []): StreamIdPage {
  let sorted: string[] = [];
  return (after, limit) => {
    calls.push(limit);
    if (sorted.length !== stored.length) sorted = [...stored].sort();
    let lo = 0;
    for (let hi = sorted.length; after !== undefined && lo < hi; ) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= after) lo = mid + 1;
      else hi = mid;
    }
    return sorted.slice(lo, lo + limit);
  };
}

describe('StreamExistenceFilter', () => {
  it('never says "does not exist" for an id it was given, while it fills and after, whatever the ids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 80 }), { maxLength: 300 }), async (ids) => {
        const stored = ids.slice(0, ids.length >> 1);
        const filter = new StreamExistenceFilter(0, storedIds(stored));
        for (const id of ids.slice(stored.length)) filter.add(id);
        const during = ids.every((id) => filter.mightExist(id));
        await filter.settled();
        return during && ids.every((id) => filter.mightExist(id));
      }),
    );
  });

  it('reads no stored id while the store opens: it fills a page per turn of the event loop', async () => {
    const stored = Array.from({ length: 5000 }, (_, i) => `account-${i}`);
    const calls: number[] = [];
    const filter = new StreamExistenceFilter(stored.length, storedIds(stored, calls));
    expect(calls).toEqual([]);
    expect(filter.mightExist('unique-email-instance-x')).toBe(true);
    await filter.settled();
    expect(calls.length).toBeGreaterThan(1);
    expect(Math.max(...calls)).toBeLessThanOrEqual(2000);
    expect(stored.every((id) => filter.mightExist(id))).toBe(true);
  });

  it('keeps every id when it outgrows its capacity (it re-reads them from the store)', async () => {
    const stored: string[] = [];
    const filter = new StreamExistenceFilter(0, storedIds(stored));
    await filter.settled();
    for (let i = 0; i < 70_000; i++) {
      const id = `unique-userName-application-${i.toString(16).padStart(64, '0')}`;
      filter.add(id);
      stored.push(id);
    }
    expect(stored.every((id) => filter.mightExist(id))).toBe(true);
    await filter.settled();
    expect(stored.every((id) => filter.mightExist(id))).toBe(true);
  }, 120_000); // 70,000 adds take tens of seconds under jest on a loaded 2-core machine

  it('answers "does not exist" for nearly every id it was not given', async () => {
    const stored: string[] = [];
    const filter = new StreamExistenceFilter(100_000, storedIds(stored));
    await filter.settled();
    for (let i = 0; i < 100_000; i++) {
      const id = `account-${i}`;
      filter.add(id);
      stored.push(id);
    }
    let falsePositives = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mightExist(`unique-email-instance-${i}`)) falsePositives++;
    expect(falsePositives / 100_000).toBeLessThan(0.02);
  });
});
