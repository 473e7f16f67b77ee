// Full Unicode case folding (CaseFolding.txt, statuses C + F). JavaScript has no caseFold()
// and toLowerCase() is not a fold (ß, ẞ, ς, ﬀ, Cherokee …); this small package carries the
// table generated from the UCD, which is safer than a hand-copied one.
import { caseFold } from 'unicode-case-folding';
import { InvalidCommand } from './errors';

/**
 * How identifiers are compared (docs/decisions.md, "Identifier fold"): in the spirit of
 * PRECIS (RFC 8264 §7 order, RFC 8265 UsernameCaseMapped / OpaqueString rules):
 *
 *   1. width mapping: full-width and half-width forms (U+3000, U+FF01–U+FFEE) → their
 *      decomposition (`ＡＢＣ` → `ABC`, `ｶ` → `カ`);
 *   2. additional mapping: every other space separator (NBSP, thin space …) → U+0020, then
 *      surrounding white space is not significant (trimmed from the folded key only);
 *      default-ignorable code points (ZWSP, ZWJ, soft hyphen, BOM, variation selectors …)
 *      are mapped to nothing, as NFKC_Casefold does;
 *   3. case mapping: full Unicode default case folding (not Turkic: `I` → `i`, `İ` → `i̇`);
 *   4. normalisation: NFC (the fold runs on NFD so that canonically equivalent inputs
 *      fold alike, as Unicode's canonical caseless match D145 requires).
 *
 * `foldForMatch` is total (read models, filter comparisons, values stored before this
 * fold existed); `foldIdentifier` also refuses what an identifier may not contain.
 */
export const foldForMatch: (value: string) => string = createMatchFold(caseFold);

/**
 * Builds `foldForMatch` around a case-folding table. Self-contained (its regular expressions
 * are inside, nothing else is referenced) so that a worker thread can rebuild the very same
 * fold from this function's source: the SQL function `scim_fold` must fold alike in every
 * connection (see libs/read-models/src/scan-pool.ts).
 */
export function createMatchFold(fold: (s: string) => string): (value: string) => string {
  const ascii = /^[\x20-\x7e]*$/;
  const wideOrNarrow = /[\u3000\uff01-\uffee]/g;
  const spaceSeparator = /\p{Zs}/gu;
  const defaultIgnorable = /\p{Default_Ignorable_Code_Point}/gu;
  return (value: string): string => {
    // Printable ASCII: every step above is the identity except trimming and lower-casing.
    if (ascii.test(value)) return value.trim().toLowerCase();
    const mapped = value
      .replace(wideOrNarrow, (c) => c.normalize('NFKC'))
      .replace(spaceSeparator, ' ')
      .replace(defaultIgnorable, '')
      .trim();
    return fold(mapped.normalize('NFD')).normalize('NFC');
  };
}

/** Why `value` may not be an identifier, or undefined when it may. */
export function identifierProblem(value: string, options: { allowIgnorable?: boolean } = {}): string | undefined {
  if (ASCII.test(value)) return undefined;
  if (CONTROL.test(value)) return 'contains a control character';
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired surrogate';
  if (UNASSIGNED.test(value)) return 'contains an unassigned code point';
  if (!options.allowIgnorable && IGNORABLE.test(value)) {
    return 'contains an invisible (default-ignorable) character such as a zero-width space, soft hyphen or byte order mark';
  }
  return undefined;
}

/**
 * The fold of an identifier (userName, externalId, email), refusing controls (NUL, TAB …),
 * unpaired surrogates, unassigned and default-ignorable code points with a validation error
 * (400 invalidValue at the SCIM edge). For every accepted value it equals `foldForMatch`.
 */
export function foldIdentifier(value: string, attribute?: string): string {
  const problem = identifierProblem(value);
  if (problem !== undefined) throw new InvalidCommand(`${attribute ?? 'The identifier'} ${problem}`, attribute);
  return foldForMatch(value);
}

/**
 * The fold used before this one (NFC, then toLowerCase). Reservation streams claimed
 * before the upgrade are named by it; they are still consulted (see reservations.ts).
 */
export function legacyFold(value: string): string {
  return value.normalize('NFC').toLowerCase();
}

const ASCII = /^[\x20-\x7e]*$/;
// Non-global twins for test(): a /g regex carries lastIndex from one call to the next.
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;
// Cn also covers the noncharacters (U+FFFE, U+FDD0 …). Which code points are assigned
// follows the runtime's Unicode version: a newer Node only ever accepts more.
const UNASSIGNED = /\p{Cn}/u;
