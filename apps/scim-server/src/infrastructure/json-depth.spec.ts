import fc from 'fast-check';
import { jsonNestedDeeperThan } from './json-depth';

/** The depth JSON.parse would build, computed on the parsed value. */
function depthOf(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('jsonNestedDeeperThan', () => {
  it('agrees with the depth of the parsed value, brackets inside strings not counting', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(jsonNestedDeeperThan(text, max)).toBe(depthOf(JSON.parse(text)) > max);
      }),
      { numRuns: 2000, seed: 7 },
    );
    expect(jsonNestedDeeperThan('{"a":"[[[[[[\\"[[[["}', 1)).toBe(false);
  });

  it('decides 100,000 levels without recursion', () => {
    expect(jsonNestedDeeperThan('['.repeat(100_000) + ']'.repeat(100_000), 32)).toBe(true);
  });
});
