import { ScimError } from '../scim-error';
import type { ResolvedAttribute } from '../schema/schema.types';
import type { CompareOp, FilterNode, Literal, Resolver } from './filter.ast';
import { type Token, tokenize } from './filter.lexer';
import { FILTER_LIMITS } from './filter.limits';

const OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ORDERING = new Set(['gt', 'ge', 'lt', 'le']);
const SUBSTRING = new Set(['co', 'sw', 'ew']);

const fail = (detail: string, attribute?: string) => ScimError.invalidFilter(`Invalid filter: ${detail}`, attribute);

export interface FilterParseOptions {
  /** How a budget overrun is refused: invalidFilter for `filter`, invalidPath inside a PATCH path. */
  readonly limitError?: (detail: string) => ScimError;
}

/** Counts the work a filter asks for while it is parsed, across nested value paths. */
class Budget {
  terms = 0;
  constructor(readonly refuse: (detail: string) => ScimError) {}

  term(): void {
    if (++this.terms > FILTER_LIMITS.maxTerms) throw this.refuse(`more than ${FILTER_LIMITS.maxTerms} attribute expressions (the limit is ${FILTER_LIMITS.maxTerms})`);
  }

  depth(depth: number): void {
    if (depth > FILTER_LIMITS.maxDepth) throw this.refuse(`nesting deeper than ${FILTER_LIMITS.maxDepth} levels (the limit is ${FILTER_LIMITS.maxDepth})`);
  }
}

/**
 * RFC 7644 §3.4.2.2 filters: `not` binds tighter than `and`, which binds tighter than `or`.
 * Every attribute is resolved against the schema, so an unknown or unfilterable attribute is
 * a 400 — never a silently unfiltered answer that could make an IdP link the wrong person.
 * The work a filter may ask for is bounded (FILTER_LIMITS), so no request can hold the server.
 */
export function parseFilter(text: string, resolve: Resolver, options: FilterParseOptions = {}): FilterNode {
  const refuse = options.limitError ?? ((d: string) => fail(d));
  if (typeof text !== 'string' || text.trim() === '') throw fail('the filter is empty');
  if (text.length > FILTER_LIMITS.maxLength) throw refuse(`the filter is longer than ${FILTER_LIMITS.maxLength} characters (the limit is ${FILTER_LIMITS.maxLength})`);
  const parser = new Parser(tokenize(text, (d) => fail(d)), resolve, new Budget(refuse));
  const node = parser.parseOr(0);
  parser.expectEnd();
  return node;
}

/** Parses the filter inside a PATCH value path, relative to its multi-valued attribute. */
export function parseValueFilter(text: string, parent: ResolvedAttribute, resolve: Resolver, options: FilterParseOptions = {}): FilterNode {
  const refuse = options.limitError ?? ((d: string) => fail(d));
  if (text.length > FILTER_LIMITS.maxLength) throw refuse(`the value filter is longer than ${FILTER_LIMITS.maxLength} characters (the limit is ${FILTER_LIMITS.maxLength})`);
  const budget = new Budget(refuse);
  const parser = new Parser(tokenize(text, (d) => fail(d)), resolve, budget, parent);
  const node = parser.parseOr(1);
  parser.expectEnd();
  parser.checkValuePathSize(parent);
  return node;
}

class Parser {
  private i = 0;

  /** The budget's term count when this parser started: what a value path adds is the difference. */
  private readonly termsAtStart: number;

  constructor(
    private readonly tokens: Token[],
    private readonly resolve: Resolver,
    private readonly budget: Budget,
    /** Inside `attr[...]`, names are sub-attributes of `attr`. */
    private readonly parent?: ResolvedAttribute,
  ) {
    this.termsAtStart = budget.terms;
  }

  checkValuePathSize(attr: ResolvedAttribute): void {
    const terms = this.budget.terms - this.termsAtStart;
    if (terms > FILTER_LIMITS.maxValuePathTerms) {
      throw this.budget.refuse(
        `the value filter of ${attr.canonicalPath} has more than ${FILTER_LIMITS.maxValuePathTerms} attribute expressions (the limit is ${FILTER_LIMITS.maxValuePathTerms})`,
      );
    }
  }

  expectEnd(): void {
    const t = this.tokens[this.i];
    if (t) throw fail(`unexpected ${describe(t)} at position ${t.at + 1}`);
  }

  parseOr(depth: number): FilterNode {
    let left = this.parseAnd(depth);
    while (this.keyword('or')) left = { kind: 'or', left, right: this.parseAnd(depth) };
    return left;
  }

  private parseAnd(depth: number): FilterNode {
    let left = this.parseUnary(depth);
    while (this.keyword('and')) left = { kind: 'and', left, right: this.parseUnary(depth) };
    return left;
  }

  private parseUnary(depth: number): FilterNode {
    this.budget.depth(depth);
    if (this.keyword('not')) {
      this.expect('(');
      const node = this.parseOr(depth + 1);
      this.expect(')');
      return { kind: 'not', node };
    }
    if (this.peek()?.t === '(') {
      this.i++;
      const node = this.parseOr(depth + 1);
      this.expect(')');
      return node;
    }
    return this.parseAttributeExpression(depth);
  }

  private parseAttributeExpression(depth: number): FilterNode {
    const t = this.next();
    if (!t || t.t !== 'word') throw fail(t ? `expected an attribute at position ${t.at + 1}` : 'expected an attribute at the end');
    const attr = this.attribute(t.v);
    if (this.peek()?.t === '[') {
      if (this.parent) throw fail('value paths cannot be nested', attr.canonicalPath);
      if (attr.attribute.type !== 'complex' || attr.subAttribute) throw fail(`${attr.canonicalPath} has no sub-attributes to filter on`, attr.canonicalPath);
      if (!attr.attribute.multiValued) {
        throw fail(`${attr.canonicalPath} is single-valued: filter on its sub-attributes directly (${attr.canonicalPath}.<name>)`, attr.canonicalPath);
      }
      this.budget.depth(depth + 1);
      this.i++;
      const inner = new Parser(this.innerTokens(), this.resolve, this.budget, attr);
      let filter = inner.parseOr(depth + 1);
      inner.expectEnd();
      // Entra's form `emails[type eq "work"].value eq "…"`: the comparison joins the value
      // filter, so it holds for the same element as `emails[type eq "work" and value eq "…"]`.
      const after = this.peek();
      if (after?.t === 'word' && after.v.startsWith('.')) {
        this.i++;
        const target = inner.attribute(after.v.slice(1));
        if (!target.subAttribute) throw fail(`expected a sub-attribute of ${attr.canonicalPath} after ]`, attr.canonicalPath);
        this.budget.term();
        filter = { kind: 'and', left: filter, right: this.comparison(target) };
      }
      inner.checkValuePathSize(attr);
      return { kind: 'valuePath', attr, filter };
    }
    this.budget.term();
    return this.comparison(attr);
  }

  /** `op value` or `pr` after an attribute. */
  private comparison(attr: ResolvedAttribute): FilterNode {
    const opToken = this.next();
    if (!opToken || opToken.t !== 'word' || !(OPS.has(opToken.v.toLowerCase()) || opToken.v.toLowerCase() === 'pr')) {
      throw fail(`expected an operator after ${attr.canonicalPath}`, attr.canonicalPath);
    }
    const op = opToken.v.toLowerCase();
    const target = this.comparable(attr);
    if (op === 'pr') return { kind: 'present', attr: target };
    const value = this.literal(target);
    const definition = target.subAttribute ?? target.attribute;
    if (definition.type === 'complex') throw fail(`${target.canonicalPath} is complex: name one of its sub-attributes`, target.canonicalPath);
    if (ORDERING.has(op) && definition.type === 'boolean') throw fail(`${op} cannot compare booleans`, target.canonicalPath);
    if (value === null && op !== 'eq' && op !== 'ne') throw fail(`${op} cannot compare with null`, target.canonicalPath);
    if (SUBSTRING.has(op)) {
      // co/sw/ew are substring tests: they need a non-empty string on a string-like attribute.
      if (typeof value !== 'string' || definition.type === 'boolean' || definition.type === 'integer' || definition.type === 'decimal' || definition.type === 'dateTime') {
        throw fail(`${op} compares strings only`, target.canonicalPath);
      }
      if (value === '') throw fail(`${op} needs a non-empty value`, target.canonicalPath);
    }
    if (value !== null) checkType(definition.type, value, op, target.canonicalPath);
    return { kind: 'compare', attr: target, op: op as CompareOp, value };
  }

  /** A complex attribute compared directly means its `value` sub-attribute (RFC 7644 §3.4.2.2). */
  private comparable(attr: ResolvedAttribute): ResolvedAttribute {
    if (attr.attribute.type === 'complex' && !attr.subAttribute) {
      const value = attr.attribute.subAttributes?.find((s) => s.name === 'value');
      if (value) return { ...attr, subAttribute: value, canonicalPath: `${attr.canonicalPath}.value` };
    }
    return attr;
  }

  attribute(name: string): ResolvedAttribute {
    const path = this.parent ? `${this.parent.canonicalPath}.${name}` : name;
    const resolved = this.resolve(path);
    if (!resolved) throw fail(`unknown attribute ${truncate(name)}`, truncate(name));
    return resolved;
  }

  private literal(attr: ResolvedAttribute): Literal {
    const t = this.next();
    if (!t) throw fail(`expected a value after the operator`, attr.canonicalPath);
    if (t.t === 'string' || t.t === 'number') return t.v;
    if (t.t === 'word') {
      const w = t.v.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    throw fail(`expected a JSON value at position ${t.at + 1}`, attr.canonicalPath);
  }

  /** Tokens up to the matching `]`. */
  private innerTokens(): Token[] {
    const start = this.i;
    for (let depth = 0; this.i < this.tokens.length; this.i++) {
      const t = this.tokens[this.i];
      if (t.t === '[') depth++;
      if (t.t === ']') {
        if (depth === 0) {
          const inner = this.tokens.slice(start, this.i);
          this.i++;
          if (inner.length === 0) throw fail('empty value filter []');
          return inner;
        }
        depth--;
      }
    }
    throw fail('missing ]');
  }

  private keyword(word: string): boolean {
    const t = this.peek();
    if (t?.t === 'word' && t.v.toLowerCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(kind: '(' | ')'): void {
    const t = this.next();
    if (!t || t.t !== kind) throw fail(t ? `expected "${kind}" at position ${t.at + 1}` : `missing "${kind}"`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(): Token | undefined {
    return this.tokens[this.i++];
  }
}

function checkType(type: string, value: Exclude<Literal, null>, op: string, path: string): void {
  const ok =
    type === 'boolean'
      ? typeof value === 'boolean'
      : type === 'integer' || type === 'decimal'
        ? typeof value === 'number' && Number.isFinite(value)
        : type === 'dateTime'
          ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
          : typeof value === 'string';
  if (!ok) throw fail(`the value compared with ${op} does not fit the attribute's type (${type})`, path);
  // Stored times are RFC 3339 with four-digit years and compare as text: a time outside
  // 0000–9999 would compare wrongly, so it is refused.
  if (type === 'dateTime' && !/^\d{4}-/.test(new Date(Date.parse(value as string)).toISOString())) {
    throw fail(`times must lie between the years 0000 and 9999`, path);
  }
}

function describe(t: Token): string {
  return t.t === 'word' ? `"${truncate(t.v)}"` : t.t === 'string' ? 'string' : t.t === 'number' ? 'number' : `"${t.t}"`;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
