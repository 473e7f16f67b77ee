/**
 * The one fold identifiers are compared by (uniqueness reservations, read-model columns and
 * filter `eq` look-ups alike). It lives beside the reservations in @app/identity, which owns
 * uniqueness; SCIM code imports it from here.
 *
 * - `foldIdentifier(value)`: the folded key; throws InvalidCommand (400 invalidValue) for a
 *   value no identifier may hold (controls, NUL, unpaired surrogates, unassigned or
 *   default-ignorable code points).
 * - `foldForMatch(value)`: the same fold, never throwing, for comparing with stored values.
 */
export { foldForMatch, foldIdentifier, identifierProblem } from '@app/identity/domain';
