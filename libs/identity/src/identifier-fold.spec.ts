import fc from 'fast-check';
import { InvalidCommand } from './errors';
import { foldForMatch, foldIdentifier, identifierProblem, legacyFold } from './identifier-fold';
import { legacyReservationStream, reservationStream } from './reservations';

const same = (a: string, b: string) => expect(foldIdentifier(a)).toBe(foldIdentifier(b));
const differ = (a: string, b: string) => expect(foldIdentifier(a)).not.toBe(foldIdentifier(b));

describe('identifier fold', () => {
  it('folds what people read alike to one key', () => {
    same('J\u030Cane', '\u01F0ane'); // J + combining caron vs ǰ (canonically equivalent after case)
    same('\u01F0', 'j\u030C');
    same('ＡＬＩＣＥ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'alice@example.com'); // full-width
    same('ｶﾀｶﾅ', 'カタカナ'); // half-width katakana
    same('Straße', 'STRASSE');
    same('ẞ', 'ss');
    same('ΌΣΟΣ', 'όσος'); // final sigma
    same('ς', 'σ');
    same('ﬀ', 'FF');
    same('Ꭰ', 'ꭰ'); // Cherokee folds to upper case, both ways to one key
    same('  alice ', 'alice'); // surrounding spaces are not significant
    same('a\u00A0b', 'a b'); // NBSP is a space
    same('K', 'k'); // Kelvin sign
  });

  it('keeps apart what people read apart', () => {
    differ('a b', 'ab');
    // Default (not Turkic) case folding: dotless ı stays itself, İ folds to i + combining dot.
    differ('ı', 'i');
    differ('İ', 'i');
    same('İ', 'i\u0307');
    same('I', 'i');
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['TAB', 'a\tb'],
    ['newline', 'alice\n'],
    ['zero-width space', 'ali\u200Bce'],
    ['zero-width joiner', 'ali\u200Dce'],
    ['soft hyphen', 'ali\u00ADce'],
    ['BOM', '\uFEFFalice'],
    ['lone high surrogate', 'a\uD800b'],
    ['lone low surrogate', 'a\uDC00b'],
    ['noncharacter', 'a\uFFFEb'],
    ['unassigned', 'a\u0378b'],
  ])('refuses %s with a validation error', (_name, value) => {
    expect(() => foldIdentifier(value, 'userName')).toThrow(InvalidCommand);
    expect(() => foldIdentifier(value, 'userName')).toThrow(/^userName contains/);
  });

  it('lets a display name carry emoji joiners and variation selectors, folding them away', () => {
    expect(identifierProblem('❤️ fans', { allowIgnorable: true })).toBeUndefined();
    expect(foldForMatch('❤️ fans')).toBe(foldForMatch('❤ fans'));
    expect(identifierProblem('a\u0000', { allowIgnorable: true })).toBeDefined();
  });

  it('distinct lone surrogates never share a reservation stream', () => {
    // Refused at the edge; the stream of a legacy value still must not collide.
    expect(foldForMatch('\uD800')).not.toBe(foldForMatch('\uD801'));
  });

  const anyText = fc.string({ unit: 'grapheme-composite', maxLength: 12 });
  const fullText = fc.string({ unit: 'binary', maxLength: 12 });

  it('is idempotent', () => {
    fc.assert(fc.property(fullText, (s) => foldForMatch(foldForMatch(s)) === foldForMatch(s)), { numRuns: 5000 });
  });

  it('is idempotent for every code point of planes 0 and 1', () => {
    // Planes 0–1 hold every code point with a case, width or decomposition mapping.
    for (let cp = 0; cp <= 0x1ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const s = String.fromCodePoint(cp);
      const once = foldForMatch(s);
      if (foldForMatch(once) !== once) throw new Error(`not idempotent at U+${cp.toString(16)}`);
    }
  });

  it('folds canonically equivalent strings alike', () => {
    fc.assert(
      fc.property(fullText, (s) => {
        const f = foldForMatch(s);
        return foldForMatch(s.normalize('NFD')) === f && foldForMatch(s.normalize('NFC')) === f;
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with foldForMatch on every value it accepts', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        if (identifierProblem(s) !== undefined) return true;
        return foldIdentifier(s) === foldForMatch(s);
      }),
    );
  });

  it('reservation streams: a pre-fold stream is named only where the old fold differs', () => {
    const key = (value: string) => ({ kind: 'userName' as const, scopeKey: 's', value });
    expect(legacyReservationStream(key('alice@example.com'))).toBeUndefined();
    expect(legacyReservationStream(key('Straße'))).toBeDefined();
    expect(reservationStream(key('Straße'))).toBe(reservationStream(key('strasse')));
    expect(legacyFold('Straße')).toBe('straße');
  });
});
