import { ScimError } from '../scim-error';
import type { Resolver } from './filter.ast';
import type { FilterSqlMapping } from './filter.sql';

const SORTABLE = new Set(['userName', 'displayName', 'name.familyName', 'name.givenName', 'emails.value', 'externalId', 'meta.created', 'meta.lastModified']);

/** One sort: the SQL expression a row is ordered by, and the direction. */
export interface SortKey {
  readonly expr: string;
  readonly dir: 'ASC' | 'DESC';
  /** False when the expression is a NOT NULL column. */
  readonly nullable: boolean;
}

/**
 * ORDER BY for `sortBy`/`sortOrder` (without the keywords), always ending in the stable
 * creation-order column so pages never skip or repeat. Undefined when nothing was asked.
 */
export function compileSort(
  sortBy: string | undefined,
  sortOrder: string | undefined,
  mapping: FilterSqlMapping,
  resolve: Resolver,
  tieBreaker: string,
): string | undefined {
  const key = compileSortKey(sortBy, sortOrder, mapping, resolve);
  return key && `${key.expr} ${key.dir}, ${tieBreaker} ${key.dir}`;
}

/** The sort expression and direction alone (a cursor walk compares positions against it). */
export function compileSortKey(sortBy: string | undefined, sortOrder: string | undefined, mapping: FilterSqlMapping, resolve: Resolver): SortKey | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined;
  const order = (sortOrder ?? 'ascending').toLowerCase();
  if (order !== 'ascending' && order !== 'descending') throw ScimError.invalidValue('sortOrder must be ascending or descending', 'sortOrder');
  const resolved = resolve(sortBy.trim());
  if (!resolved || !SORTABLE.has(resolved.canonicalPath)) {
    throw ScimError.invalidValue(`sortBy must be one of ${[...SORTABLE].join(', ')}`, 'sortBy');
  }
  const dir = order === 'descending' ? 'DESC' : 'ASC';
  const override = mapping.column(resolved.canonicalPath);
  const def = resolved.subAttribute ?? resolved.attribute;
  let expr: string;
  if (override) {
    expr = override.expr;
  } else if (resolved.canonicalPath === 'emails.value') {
    const col = mapping.jsonColumn;
    expr = `COALESCE((SELECT json_extract(e.value, '$.value') FROM json_each(${col}, '$.emails') AS e WHERE json_extract(e.value, '$.primary') = 1 LIMIT 1), json_extract(${col}, '$.emails[0].value'))`;
  } else {
    expr = `json_extract(${mapping.jsonColumn}, '$.${resolved.attribute.name}${resolved.subAttribute ? `.${resolved.subAttribute.name}` : ''}')`;
  }
  if (!def.caseExact && !override?.folded) expr = `scim_fold(${expr})`;
  return { expr, dir, nullable: !override?.notNull };
}
