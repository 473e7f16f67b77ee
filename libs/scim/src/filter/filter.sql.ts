import type { ResolvedAttribute } from '../schema/schema.types';
import type { FilterNode } from './filter.ast';
import { fold } from './filter.evaluate';

export interface ColumnOverride {
  readonly expr: string;
  /** The column holds `scim_fold(value)`: compare it with a folded parameter (index-friendly). */
  readonly folded?: boolean;
  readonly type?: 'text' | 'integer' | 'boolean' | 'epochMs';
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
}

/**
 * Compiles a parsed filter to a parameterised SQLite condition. Values never enter the SQL
 * text; co/sw/ew use instr/substr rather than LIKE so `%` and `_` in values mean themselves.
 * Leaves stay bare so that indexes apply; `not` COALESCEs its operand to 0 so that absent
 * attributes (SQL NULL) count as "does not match" and `not` then includes them, and `ne`
 * includes resources without the attribute — both as the in-memory evaluator does.
 */
export function compileFilterToSql(node: FilterNode, mapping: FilterSqlMapping): CompiledSql {
  const params: (string | number)[] = [];
  let alias = 0;

  const jsonPathOf = (attr: ResolvedAttribute, withSub: boolean): string => {
    const ext = attr.canonicalPath.toLowerCase().startsWith('urn:');
    const base = ext ? `$."${attr.schema}".${quoteKey(attr.attribute.name)}` : `$.${quoteKey(attr.attribute.name)}`;
    return withSub && attr.subAttribute ? `${base}.${quoteKey(attr.subAttribute.name)}` : base;
  };

  /** SQL for a condition on the leaf value `expr` of `attr`. */
  const leaf = (n: Extract<FilterNode, { kind: 'compare' | 'present' }>, expr: string, folded: boolean, boolColumn: boolean): string => {
    const def = n.attr.subAttribute ?? n.attr.attribute;
    if (n.kind === 'present') return `(${expr} IS NOT NULL AND ${expr} != '')`;
    if (n.value === null) return n.op === 'eq' ? `(${expr} IS NULL OR ${expr} = '')` : `(${expr} IS NOT NULL AND ${expr} != '')`;
    if (typeof n.value === 'boolean') {
      const v = n.value ? 1 : 0;
      void boolColumn;
      return n.op === 'eq' ? `${expr} = ${v}` : `COALESCE(${expr} != ${v}, 1)`;
    }
    if (typeof n.value === 'number') {
      params.push(n.value);
      return cmp(n.op, expr, '?');
    }
    let value: string = n.value;
    if (def.type === 'dateTime') value = new Date(value).toISOString();
    const insensitive = !def.caseExact && def.type !== 'dateTime';
    const lhs = insensitive && !folded ? `scim_fold(${expr})` : expr;
    if (insensitive) value = fold(value);
    switch (n.op) {
      case 'co':
        params.push(value);
        return `instr(${lhs}, ?) > 0`;
      case 'sw':
        params.push(value);
        return `substr(${lhs}, 1, ${[...value].length}) = ?`;
      case 'ew':
        params.push(value);
        return value.length === 0 ? '1' : `substr(${lhs}, -${[...value].length}) = ?`;
      default:
        params.push(value);
        return cmp(n.op, lhs, '?');
    }
  };

  const compile = (n: FilterNode, element?: { alias: string; attr: ResolvedAttribute }): string => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return `(${compile(n.left, element)} ${n.kind.toUpperCase()} ${compile(n.right, element)})`;
      case 'not':
        return `(NOT COALESCE(${compile(n.node, element)}, 0))`;
      case 'valuePath': {
        const a = `j${alias++}`;
        return `EXISTS (SELECT 1 FROM json_each(${mapping.jsonColumn}, '${jsonPathOf(n.attr, false)}') AS ${a} WHERE ${compile(n.filter, { alias: a, attr: n.attr })})`;
      }
      case 'compare':
      case 'present': {
        if (element) {
          // Inside a value path: the sub-attribute of the current element.
          const sub = n.attr.subAttribute?.name ?? 'value';
          return leaf(n, `json_extract(${element.alias}.value, '$.${quoteKey(sub)}')`, false, false);
        }
        const override = !n.attr.subAttribute || !n.attr.attribute.multiValued ? mapping.column(n.attr.canonicalPath) : undefined;
        if (override) return leaf(n, override.expr, override.folded === true, override.type === 'boolean');
        if (n.attr.attribute.multiValued) {
          const a = `j${alias++}`;
          const inner = n.attr.subAttribute ? `json_extract(${a}.value, '$.${quoteKey(n.attr.subAttribute.name)}')` : `${a}.value`;
          if (n.kind === 'compare' && n.op === 'ne') {
            // "No element equals" (matching the evaluator), not "some element differs".
            const eq = leaf({ ...n, op: 'eq' }, inner, false, false);
            return `(NOT EXISTS (SELECT 1 FROM json_each(${mapping.jsonColumn}, '${jsonPathOf(n.attr, false)}') AS ${a} WHERE ${eq}))`;
          }
          return `EXISTS (SELECT 1 FROM json_each(${mapping.jsonColumn}, '${jsonPathOf(n.attr, false)}') AS ${a} WHERE ${leaf(n, inner, false, false)})`;
        }
        return leaf(n, `json_extract(${mapping.jsonColumn}, '${jsonPathOf(n.attr, true)}')`, false, false);
      }
    }
  };

  return { sql: compile(node), params };
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
