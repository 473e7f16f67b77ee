import { foldForMatch } from '../schema/fold-identifier';
import type { ResolvedAttribute } from '../schema/schema.types';
import type { CompareOp, FilterNode, Literal } from './filter.ast';

type Plain = Record<string, unknown>;

/**
 * Evaluates a filter against one resource (or one element of a multi-valued attribute
 * inside a value path). The same semantics as the SQL compiler, which a table-driven test
 * holds them to.
 */
export function matchesFilter(node: FilterNode, resource: Plain): boolean {
  switch (node.kind) {
    case 'and':
      return matchesFilter(node.left, resource) && matchesFilter(node.right, resource);
    case 'or':
      return matchesFilter(node.left, resource) || matchesFilter(node.right, resource);
    case 'not':
      return !matchesFilter(node.node, resource);
    case 'present':
      return valuesOf(resource, node.attr).some(isPresent);
    case 'compare': {
      const values = valuesOf(resource, node.attr).filter((v) => v !== null && v !== undefined);
      if (node.value === null) return node.op === 'eq' ? !values.some(isPresent) : values.some(isPresent);
      const caseExact = (node.attr.subAttribute ?? node.attr.attribute).caseExact;
      const type = (node.attr.subAttribute ?? node.attr.attribute).type;
      if (node.op === 'ne') return !values.some((v) => compare(v, 'eq', node.value as Exclude<Literal, null>, caseExact, type));
      return values.some((v) => compare(v, node.op, node.value as Exclude<Literal, null>, caseExact, type));
    }
    case 'valuePath': {
      const elements = elementsOf(resource, node.attr);
      return elements.some((element) => matchesFilter(node.filter, element));
    }
  }
}

/** Elements of a multi-valued complex attribute (or the single complex value). */
function elementsOf(resource: Plain, attr: ResolvedAttribute): Plain[] {
  const holder = containerOf(resource, attr);
  const v = holder?.[attr.attribute.name];
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list.filter((e): e is Plain => typeof e === 'object' && e !== null && !Array.isArray(e)).map((e) => wrapElement(e, attr));
}

/**
 * Inside a value path the inner filter names `emails.type` etc.; evaluate it against a
 * resource holding just this element so the same lookup code applies.
 */
function wrapElement(element: Plain, attr: ResolvedAttribute): Plain {
  const isExtension = attr.canonicalPath.toLowerCase().startsWith('urn:');
  return isExtension ? { [attr.schema]: { [attr.attribute.name]: element } } : { [attr.attribute.name]: element };
}

function containerOf(resource: Plain, attr: ResolvedAttribute): Plain | undefined {
  if (!attr.canonicalPath.toLowerCase().startsWith('urn:')) return resource;
  const ext = resource[attr.schema];
  return typeof ext === 'object' && ext !== null ? (ext as Plain) : undefined;
}

export function valuesOf(resource: Plain, attr: ResolvedAttribute): unknown[] {
  const holder = containerOf(resource, attr);
  if (!holder) return [];
  const top = holder[attr.attribute.name];
  if (top === undefined || top === null) return [];
  if (!attr.subAttribute) return Array.isArray(top) ? top : [top];
  const sub = attr.subAttribute.name;
  const items = Array.isArray(top) ? top : [top];
  return items.map((i) => (typeof i === 'object' && i !== null ? (i as Plain)[sub] : undefined)).filter((v) => v !== undefined);
}

function isPresent(v: unknown): boolean {
  return v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);
}

/** Case-insensitive comparison uses the identifier fold (schema/fold-identifier.ts), as uniqueness does. */
export function fold(s: string): string {
  return foldForMatch(s);
}

function compare(actual: unknown, op: CompareOp, expected: Exclude<Literal, null>, caseExact: boolean, type: string): boolean {
  if (typeof expected === 'boolean') return op === 'eq' && actual === expected;
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return false;
    return ordered(actual, expected, op);
  }
  if (typeof actual !== 'string') return false;
  if (type === 'dateTime') {
    const a = Date.parse(actual);
    const b = Date.parse(expected);
    if (Number.isNaN(a) || Number.isNaN(b)) return false;
    return ordered(a, b, op === 'co' || op === 'sw' || op === 'ew' ? 'eq' : op);
  }
  const a = caseExact ? actual : fold(actual);
  const b = caseExact ? expected : fold(expected);
  switch (op) {
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    default:
      return ordered(a, b, op);
  }
}

function ordered<T extends string | number>(a: T, b: T, op: CompareOp): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}
