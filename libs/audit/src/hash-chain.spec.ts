import fc from 'fast-check';
import { canonical, chainHash, GENESIS } from './hash-chain';

describe('RFC 8785 canonical JSON', () => {
  it.each([
    [{ b: 2, a: 1, c: { z: [3, 'x', null, true], a: {} } }, '{"a":1,"b":2,"c":{"a":{},"z":[3,"x",null,true]}}'],
    [{ '€': 1, '\r': 2, '1': 3, ö: 4 }, '{"\\r":2,"1":3,"ö":4,"€":1}'],
    [[1e21, 0.1, -0, 1e-7], '[1e+21,0.1,0,1e-7]'],
    ['line\nbreak "quoted" \u2028', '"line\\nbreak \\"quoted\\" \u2028"'],
    [{ skipped: undefined, kept: 1 }, '{"kept":1}'],
  ])('%j', (value, expected) => {
    expect(canonical(value)).toBe(expected);
  });
  it('carries the same data as JSON and does not depend on the order keys were written in', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonical(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        const reversed = JSON.parse(JSON.stringify(value), (_k, v: unknown) =>
          v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        ) as unknown;
        expect(canonical(reversed)).toBe(text);
      }),
    );
  });
  it('refuses values JSON cannot carry', () => {
    expect(() => canonical(Number.NaN)).toThrow();
    expect(() => canonical(() => 1)).toThrow();
  });
  it('chains: the same envelopes in the same order give the same hashes, any change gives another', () => {
    const e = { id: '1', type: 'T' } as never;
    const h1 = chainHash(GENESIS, e);
    expect(chainHash(GENESIS, e)).toBe(h1);
    expect(chainHash(h1, e)).not.toBe(h1);
    expect(chainHash(GENESIS, { id: '1', type: 'U' } as never)).not.toBe(h1);
  });
});
