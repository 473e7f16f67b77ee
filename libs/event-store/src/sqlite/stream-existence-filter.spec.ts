import fc from 'fast-check';
import { StreamExistenceFilter } from './stream-existence-filter';

describe('StreamExistenceFilter', () => {
  it('never says "does not exist" for an id it was given, whatever the ids', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 80 }), { maxLength: 300 }), (ids) => {
        const added: string[] = [];
        const filter = new StreamExistenceFilter(0, () => added);
        for (const id of ids) {
          filter.add(id);
          added.push(id);
        }
        return ids.every((id) => filter.mightExist(id));
      }),
    );
  });

  it('keeps every id when it outgrows its capacity (it re-reads them from the store)', () => {
    const stored: string[] = [];
    const filter = new StreamExistenceFilter(0, () => stored);
    for (let i = 0; i < 70_000; i++) {
      const id = `unique-userName-application-${i.toString(16).padStart(64, '0')}`;
      filter.add(id);
      stored.push(id);
    }
    expect(stored.every((id) => filter.mightExist(id))).toBe(true);
  });

  it('answers "does not exist" for nearly every id it was not given', () => {
    const stored: string[] = [];
    const filter = new StreamExistenceFilter(100_000, () => stored);
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
