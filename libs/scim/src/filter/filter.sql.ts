import type { ResolvedAttribute } from '../schema/schema.types';
import type { FilterNode } from './filter.ast';
import { ScimError } from '../scim-error';
import { fold } from './filter.evaluate';
import { FILTER_LIMITS } from './filter.limits';

export interface ColumnOverride {
  readonly expr: string;
  /** The column holds `scim_fold(value)`: compare it with a folded parameter (index-friendly). */
  readonly folded?: boolean;
  readonly type?: 'text' | 'integer' | 'boolean' | 'epochMs';
  /** The column is NOT NULL: a cursor position on it needs no NULL case (and keeps its index seek). */
  readonly notNull?: boolean;
}

export interface FilterSqlMapping {
  /** Column holding the rendered resource as JSON. */
  readonly jsonColumn: string;
  /** Indexed column standing in for a canonical path, e.g. 'userName' → user_name_folded. */
  column(canonicalPath: string): ColumnOverride | undefined;
}

export interface CompiledSql {
  readonly sql: string;
  readonly params: (string | number)[];
  /** Walks of the stored JSON document per row: above 0, the condition is a full scan of the scope. */
  readonly documentScans?: number;
}

/** One element of a multi-valued attribute inside `EXISTS (… json_each …)`. */
interface ElementScope {
  readonly alias: string;
  /** Sub-attribute (or '' for the element itself) → column holding its folded value. */
  readonly folded: Map<string, string>;
}

/**
 * Compiles a parsed filter to a parameterised SQLite condition. Values never enter the SQL
 * text; co/sw/ew use instr/substr rather than LIKE so `%` and `_` in values mean themselves.
 * Leaves stay bare so that indexes apply; `not` COALESCEs its operand to 0 so that absent
 * attributes (SQL NULL) count as "does not match" and `not` then includes them, and `ne`
 * includes resources without the attribute — both as the in-memory evaluator does.
 *
 * Cost: every condition on a multi-valued attribute walks the stored JSON of every candidate
 * row, and folding calls back into JavaScript per element. So the conditions an `or` joins on
 * the same multi-valued attribute share one walk (`∃e: P(e) ∨ ∃e: Q(e)` is `∃e: P(e) ∨ Q(e)`)
 * in which each sub-attribute is folded once per element, and the number of walks of the
 * document per row is capped (FILTER_LIMITS.maxDocumentScans): the worst accepted filter costs
 * a few table scans, not one per term.
 */
export function compileFilterToSql(node: FilterNode, mapping: FilterSqlMapping): CompiledSql {
  const params: (string | number)[] = [];
  let alias = 0;
  let scans = 0;
  const scan = () => {
    if (++scans > FILTER_LIMITS.maxDocumentScans) {
      throw ScimError.invalidFilter(
        `Invalid filter: more than ${FILTER_LIMITS.maxDocumentScans} conditions on attributes without their own index (the limit is ${FILTER_LIMITS.maxDocumentScans}; conditions joined by or on the same multi-valued attribute count once)`,
      );
    }
  };

  const jsonPathOf = (attr: ResolvedAttribute, withSub: boolean): string => {
    const ext = attr.canonicalPath.toLowerCase().startsWith('urn:');
    const base = ext ? `$."${attr.schema}".${quoteKey(attr.attribute.name)}` : `$.${quoteKey(attr.attribute.name)}`;
    return withSub && attr.subAttribute ? `${base}.${quoteKey(attr.subAttribute.name)}` : base;
  };

  /** SQL for a condition on the leaf value `expr`; `foldedExpr` already holds its folded form. */
  const leaf = (n: Extract<FilterNode, { kind: 'compare' | 'present' }>, expr: string, foldedExpr?: string): string => {
    const def = n.attr.subAttribute ?? n.attr.attribute;
    if (n.kind === 'present') return `(${expr} IS NOT NULL AND ${expr} != '')`;
    if (n.value === null) return n.op === 'eq' ? `(${expr} IS NULL OR ${expr} = '')` : `(${expr} IS NOT NULL AND ${expr} != '')`;
    if (typeof n.value === 'boolean') {
      const v = n.value ? 1 : 0;
      return n.op === 'eq' ? `${expr} = ${v}` : `COALESCE(${expr} != ${v}, 1)`;
    }
    if (typeof n.value === 'number') {
      params.push(n.value);
      return cmp(n.op, expr, '?');
    }
    let value: string = n.value;
    if (def.type === 'dateTime') value = new Date(value).toISOString();
    const insensitive = !def.caseExact && def.type !== 'dateTime';
    const lhs = insensitive ? (foldedExpr ?? `scim_fold(${expr})`) : expr;
    if (insensitive) value = fold(value);
    params.push(value);
    switch (n.op) {
      case 'co':
        return `instr(${lhs}, ?) > 0`;
      case 'sw':
        return `substr(${lhs}, 1, ${[...value].length}) = ?`;
      case 'ew':
        return `substr(${lhs}, -${[...value].length}) = ?`;
      default:
        return cmp(n.op, lhs, '?');
    }
  };

  /** A condition on one element: its sub-attribute's value, folded once per element. */
  const elementLeaf = (n: Extract<FilterNode, { kind: 'compare' | 'present' }>, element: ElementScope, sub: string | undefined): string => {
    const key = sub ?? '';
    const raw = sub === undefined ? `${element.alias}.value` : `json_extract(${element.alias}.value, '$.${quoteKey(sub)}')`;
    let folded = element.folded.get(key);
    if (folded === undefined) {
      folded = `f${element.folded.size}`;
      element.folded.set(key, folded);
    }
    return leaf(n, raw, `${element.alias}.${folded}`);
  };

  /**
   * `EXISTS` over the elements of a multi-valued attribute. The inner select is kept from
   * being flattened (LIMIT/OFFSET) so each folded column is computed once per element, not
   * once per condition that reads it.
   */
  const exists = (attr: ResolvedAttribute, condition: (element: ElementScope) => string, negate = false): string => {
    scan();
    const element: ElementScope = { alias: `j${alias++}`, folded: new Map() };
    const where = condition(element);
    const foldedColumns = [...element.folded].map(([sub, col]) => `, scim_fold(${sub === '' ? 'value' : `json_extract(value, '$.${quoteKey(sub)}')`}) AS ${col}`).join('');
    const from = `(SELECT value${foldedColumns} FROM json_each(${mapping.jsonColumn}, '${jsonPathOf(attr, false)}') LIMIT -1 OFFSET 0)`;
    return `${negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${from} AS ${element.alias} WHERE ${where})`;
  };

  /** The multi-valued attribute a condition ranges over, when it is "some element satisfies …". */
  const elementwise = (n: FilterNode): ResolvedAttribute | undefined => {
    if (n.kind === 'valuePath') return n.attr;
    if ((n.kind === 'compare' || n.kind === 'present') && n.attr.attribute.multiValued && !columnFor(n)) {
      // `ne` is "no element equals" and `eq null` "no element has a value": not existential.
      if (n.kind === 'compare' && (n.op === 'ne' || n.value === null)) return undefined;
      return n.attr;
    }
    return undefined;
  };

  const columnFor = (n: Extract<FilterNode, { kind: 'compare' | 'present' }>) =>
    !n.attr.subAttribute || !n.attr.attribute.multiValued ? mapping.column(n.attr.canonicalPath) : undefined;

  /** The condition `n` states about one element. */
  const onElement = (n: FilterNode, element: ElementScope): string => {
    if (n.kind === 'valuePath') return compile(n.filter, element);
    if (n.kind === 'compare' || n.kind === 'present') return elementLeaf(n, element, n.attr.subAttribute?.name);
    return compile(n, element);
  };

  const compile = (n: FilterNode, element?: ElementScope): string => {
    switch (n.kind) {
      case 'and':
        return `(${compile(n.left, element)} AND ${compile(n.right, element)})`;
      case 'or': {
        if (element) return `(${compile(n.left, element)} OR ${compile(n.right, element)})`;
        // Operands on the same multi-valued attribute share one walk of its elements.
        const operands = flattenOr(n);
        const groups = new Map<string, { attr: ResolvedAttribute; nodes: FilterNode[] }>();
        const parts: (string | { key: string })[] = [];
        for (const operand of operands) {
          const attr = elementwise(operand);
          if (!attr) {
            parts.push(compile(operand));
            continue;
          }
          const key = jsonPathOf(attr, false);
          const group = groups.get(key);
          if (group) group.nodes.push(operand);
          else {
            groups.set(key, { attr, nodes: [operand] });
            parts.push({ key });
          }
        }
        const sql = parts.map((p) => {
          if (typeof p === 'string') return p;
          const { attr, nodes } = groups.get(p.key) as { attr: ResolvedAttribute; nodes: FilterNode[] };
          return exists(attr, (element) => nodes.map((x) => `(${onElement(x, element)})`).join(' OR '));
        });
        return `(${sql.join(' OR ')})`;
      }
      case 'not':
        return `(NOT COALESCE(${compile(n.node, element)}, 0))`;
      case 'valuePath':
        return exists(n.attr, (e) => compile(n.filter, e));
      case 'compare':
      case 'present': {
        // Inside a value path: the sub-attribute of the current element.
        if (element) return elementLeaf(n, element, n.attr.subAttribute?.name ?? 'value');
        const override = columnFor(n);
        if (override) return leaf(n, override.expr, override.folded === true ? override.expr : undefined);
        if (n.attr.attribute.multiValued) {
          const sub = n.attr.subAttribute?.name;
          if (n.kind === 'compare' && n.op === 'ne') {
            // "No element equals" (matching the evaluator), not "some element differs".
            return `(${exists(n.attr, (e) => elementLeaf({ ...n, op: 'eq' }, e, sub), true)})`;
          }
          return exists(n.attr, (e) => elementLeaf(n, e, sub));
        }
        scan();
        return leaf(n, `json_extract(${mapping.jsonColumn}, '${jsonPathOf(n.attr, true)}')`);
      }
    }
  };

  const sql = compile(node);
  return { sql, params, documentScans: scans };
}

function flattenOr(n: FilterNode): FilterNode[] {
  return n.kind === 'or' ? [...flattenOr(n.left), ...flattenOr(n.right)] : [n];
}

function cmp(op: string, lhs: string, rhs: string): string {
  const sqlOp = { eq: '=', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=' }[op] ?? '=';
  // Absent compares as "not equal": ne is true, everything else false.
  return op === 'ne' ? `COALESCE(${lhs} != ${rhs}, 1)` : `${lhs} ${sqlOp} ${rhs}`;
}

/** JSON path key: names from the schema are plain identifiers, `$ref` needs quoting. */
function quoteKey(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name}"`;
}
