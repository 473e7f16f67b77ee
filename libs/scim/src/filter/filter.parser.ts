import { ScimError } from '../scim-error';
import type { ResolvedAttribute } from '../schema/schema.types';
import type { CompareOp, FilterNode, Literal, Resolver } from './filter.ast';
import { type Token, tokenize } from './filter.lexer';

const MAX_LENGTH = 4096;
const MAX_DEPTH = 32;
const OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ORDERING = new Set(['gt', 'ge', 'lt', 'le']);

const fail = (detail: string, attribute?: string) => ScimError.invalidFilter(`Invalid filter: ${detail}`, attribute);

/**
 * RFC 7644 §3.4.2.2 filters: `not` binds tighter than `and`, which binds tighter than `or`.
 * Every attribute is resolved against the schema, so an unknown or unfilterable attribute is
 * a 400 — never a silently unfiltered answer that could make an IdP link the wrong person.
 */
export function parseFilter(text: string, resolve: Resolver): FilterNode {
  if (typeof text !== 'string' || text.trim() === '') throw fail('the filter is empty');
  if (text.length > MAX_LENGTH) throw fail(`the filter is longer than ${MAX_LENGTH} characters`);
  const parser = new Parser(tokenize(text, (d) => fail(d)), resolve);
  const node = parser.parseOr(0);
  parser.expectEnd();
  return node;
}

/** Parses the filter inside a PATCH value path, relative to its multi-valued attribute. */
export function parseValueFilter(text: string, parent: ResolvedAttribute, resolve: Resolver): FilterNode {
  const parser = new Parser(tokenize(text, (d) => fail(d)), resolve, parent);
  const node = parser.parseOr(0);
  parser.expectEnd();
  return node;
}

class Parser {
  private i = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly resolve: Resolver,
    /** Inside `attr[...]`, names are sub-attributes of `attr`. */
    private readonly parent?: ResolvedAttribute,
  ) {}

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
    if (depth > MAX_DEPTH) throw fail(`nesting deeper than ${MAX_DEPTH} levels`);
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
      this.i++;
      const inner = new Parser(this.innerTokens(), this.resolve, attr);
      const filter = inner.parseOr(depth + 1);
      inner.expectEnd();
      return { kind: 'valuePath', attr, filter };
    }
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

  private attribute(name: string): ResolvedAttribute {
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
        ? typeof value === 'number'
        : type === 'dateTime'
          ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
          : typeof value === 'string';
  if (!ok) throw fail(`the value compared with ${op} does not fit the attribute's type (${type})`, path);
}

function describe(t: Token): string {
  return t.t === 'word' ? `"${truncate(t.v)}"` : t.t === 'string' ? 'string' : t.t === 'number' ? 'number' : `"${t.t}"`;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
