import fc from 'fast-check';
import { FILTER_LIMITS, PATCH_PATH_LIMITS } from '@app/scim/filter/filter.limits';
import { COMMON_ATTRIBUTES, resourceSchema, type ResourceTypeName } from '@app/scim/schema/resolve';
import type { AttributeDefinition } from '@app/scim/schema/schema.types';

/**
 * fast-check arbitraries built from the RFC 7644 filter and PATCH path grammars and the
 * resource schemas: every attribute and sub-attribute × every operator × values of every kind
 * (empty strings, far dates, huge and non-finite numbers, odd Unicode), with and/or/not,
 * parentheses, value paths and Entra's `attr[filter].sub op value`, at and past each limit.
 * Shared by the unit specs and the hostile-input corpus over HTTP.
 */
export const OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr'] as const;

export interface GrammarAttributes {
  /** Every path a filter can name (`userName`, `name.givenName`, `urn:…:manager.value`). */
  readonly paths: readonly string[];
  /** Multi-valued complex attributes with their sub-attribute names. */
  readonly multi: readonly { readonly path: string; readonly subs: readonly string[] }[];
  /** Single-valued complex attributes (no value filters on these). */
  readonly single: readonly { readonly path: string; readonly subs: readonly string[] }[];
}

export function schemaAttributes(type: ResourceTypeName): GrammarAttributes {
  const schema = resourceSchema(type);
  const paths: string[] = [];
  const multi: { path: string; subs: string[] }[] = [];
  const single: { path: string; subs: string[] }[] = [];
  const groups: [string, readonly AttributeDefinition[]][] = [
    ['', [...schema.core.attributes, ...COMMON_ATTRIBUTES]],
    ...schema.extensions.map((e): [string, readonly AttributeDefinition[]] => [`${e.id}:`, e.attributes]),
  ];
  for (const [prefix, attrs] of groups) {
    for (const a of attrs) {
      paths.push(`${prefix}${a.name}`);
      if (!a.subAttributes) continue;
      paths.push(...a.subAttributes.map((s) => `${prefix}${a.name}.${s.name}`));
      (a.multiValued ? multi : single).push({ path: `${prefix}${a.name}`, subs: a.subAttributes.map((s) => s.name) });
    }
  }
  return { paths, multi, single };
}

/** The audit filter's envelope attributes. */
export const AUDIT_ATTRIBUTES: GrammarAttributes = {
  paths: ['id', 'type', 'scope', 'outcome', 'correlationId', 'actor', 'actor.tokenId', 'actor.kind', 'target', 'target.id', 'target.identityId', 'subject'],
  multi: [],
  single: [
    { path: 'actor', subs: ['tokenId', 'kind'] },
    { path: 'target', subs: ['id', 'identityId'] },
  ],
};

export const literal: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('""', '"x"', '"Ann"', '"ann@example.com"', '"work"', '"%"', '"_"', '"\\u0000"', '"ẞ"', 'true', 'false', 'null', '0', '-1', '1e400', '3.5', '99999999999999999999'),
  fc.constantFrom('"2024-01-01T00:00:00Z"', '"+010000-01-01T00:00:00Z"', '"-000001-01-01T00:00:00Z"', '"9999-12-31T23:59:59Z"', '"0000-01-01T00:00:00Z"', '"not a date"', '"2024"'),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
);

const comparisonOn = (names: fc.Arbitrary<string>) =>
  fc.tuple(names, fc.constantFrom(...OPERATORS), literal).map(([a, op, v]) => (op === 'pr' ? `${a} pr` : `${a} ${op} ${v}`));

/** A value path `attr[…]`, or Entra's `attr[…].sub op value`, on any complex attribute (single-valued ones must be refused). */
export function valuePathOf(attrs: GrammarAttributes): fc.Arbitrary<string> {
  const complex = [...attrs.multi, ...attrs.single];
  if (complex.length === 0) return fc.constant('nosuch[value eq "x"]');
  return fc.constantFrom(...complex).chain(({ path, subs }) => {
    const inner = comparisonOn(fc.constantFrom(...subs, 'nosuch'));
    return fc
      .tuple(fc.array(inner, { minLength: 1, maxLength: 3 }), fc.constantFrom('and', 'or'), fc.option(inner))
      .map(([terms, join, entra]) => `${path}[${terms.join(` ${join} `)}]${entra ? `.${entra}` : ''}`);
  });
}

/** Filters from the grammar over the given attributes, plus unknown names. */
export function filterOf(attrs: GrammarAttributes): fc.Arbitrary<string> {
  const names = fc.oneof(fc.constantFrom(...attrs.paths), fc.constantFrom('nosuch', 'name.nosuch', 'emails.value.x', 'urn:x:nosuch'));
  const { filter } = fc.letrec<{ filter: string; term: string }>((tie) => ({
    term: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comparisonOn(names),
      valuePathOf(attrs),
      tie('filter').map((f) => `(${f})`),
      tie('filter').map((f) => `not (${f})`),
    ),
    filter: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('term'),
      fc.tuple(tie('term'), fc.constantFrom('and', 'or'), tie('term')).map(([a, op, b]) => `${a} ${op} ${b}`),
    ),
  }));
  return filter;
}

const repeat = (n: number, term: string, join = ' or ') => Array.from({ length: n }, () => term).join(join);

/** Filters at and just past each budget limit, and far past them. */
export function budgetFilters(attr: string, multi: string): fc.Arbitrary<string> {
  const L = FILTER_LIMITS;
  return fc.oneof(
    fc.constantFrom(L.maxTerms, L.maxTerms + 1, L.maxTerms * 40).map((n) => repeat(n, `${attr} eq "x"`)),
    fc.constantFrom(L.maxDepth, L.maxDepth + 1, 5000).map((n) => `${'('.repeat(n)}${attr} eq "x"${')'.repeat(n)}`),
    fc.constantFrom(L.maxDepth, L.maxDepth + 1, 2000).map((n) => `${'not ('.repeat(n)}${attr} eq "x"${')'.repeat(n)}`),
    fc.constantFrom(L.maxValuePathTerms, L.maxValuePathTerms + 1, 3000).map((n) => `${multi}[${repeat(n, 'value co "e"')}]`),
    fc.constantFrom(L.maxLength, L.maxLength + 1, L.maxLength * 10).map((n) => `${attr} eq "${'x'.repeat(Math.max(0, n - attr.length - 6))}"`),
    fc.constantFrom(L.maxTerms, 200).map((n) => repeat(n, `${multi} co "e"`)),
  );
}

/** PATCH paths: attributes, sub-attributes, value paths (with a sub-attribute), junk, and paths far past the budget. */
export function patchPathOf(attrs: GrammarAttributes, multi: string): fc.Arbitrary<string> {
  const vp = valuePathOf(attrs);
  return fc.oneof(
    fc.constantFrom(...attrs.paths, ...attrs.single.map((s) => `${s.path}[${s.subs[0]} eq "x"].${s.subs[0]}`)),
    vp,
    vp.map((p) => `${p.replace(/\]\..*$/, ']')}.value`),
    fc.string({ maxLength: 30 }),
    fc.integer({ min: 0, max: 3 * FILTER_LIMITS.maxValuePathTerms }).map((n) => `${multi}[${repeat(n, 'value eq "x"')}].display`),
    fc.constantFrom(PATCH_PATH_LIMITS.maxLength - 30, PATCH_PATH_LIMITS.maxLength + 1, PATCH_PATH_LIMITS.maxLength * 40).map((n) => `${multi}[value eq "${'x'.repeat(n)}"]`),
    // Far beyond any sane size: tens of thousands of terms.
    fc.constantFrom(' and ', ' or ').map((join) => `${multi}[${repeat(30_000, 'type eq "w"', join)}].value`),
  );
}
