import type { CursorPosition, SortKey } from '@app/scim';

/**
 * The rows after `position` in a list ordered by `sort` (or by creation position alone), as a
 * WHERE condition: keyset paging. Every order ends in `seq` (the creation position: unique and
 * never changed), so the position is exact and a page starts with one index seek wherever it is.
 *
 * SQLite orders NULL before every value: first in ascending order, last in descending. A sort
 * key may be NULL (externalId, any attribute read from the document), so a NULL position and
 * the NULL rows get conditions of their own (a descending walk over such a key then finds its
 * position by walking the index, not by a seek). The `>=` / `<=` term is redundant with the one
 * after it but lets SQLite seek the sort column's index to the position instead of filtering.
 */
export function keysetAfter(position: CursorPosition, sort: SortKey | undefined): { sql: string; params: (string | number)[] } {
  const seq = position.seq;
  if (!sort) return { sql: 'seq > ?', params: [seq] };
  const e = `(${sort.expr})`;
  const key = position.key ?? null;
  if (!sort.nullable && key !== null) {
    // The common case (userName, displayName, timestamps): a range on the column's index.
    return sort.dir === 'ASC'
      ? { sql: `${e} >= ? AND (${e} > ? OR seq > ?)`, params: [key, key, seq] }
      : { sql: `${e} <= ? AND (${e} < ? OR seq < ?)`, params: [key, key, seq] };
  }
  if (sort.dir === 'ASC') {
    if (key === null) return { sql: `(${e} IS NULL AND seq > ?) OR ${e} IS NOT NULL`, params: [seq] };
    return { sql: `${e} >= ? AND (${e} > ? OR seq > ?)`, params: [key, key, seq] };
  }
  if (key === null) return { sql: `${e} IS NULL AND seq < ?`, params: [seq] };
  return { sql: `(${e} <= ? AND (${e} < ? OR seq < ?)) OR ${e} IS NULL`, params: [key, key, seq] };
}
