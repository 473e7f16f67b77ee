import type { CursorPosition, SortKey } from '@app/scim';
import type { CursorKeyring } from '../cursor-keyring';
import type { ListQuery } from '../scan-pool';
import { keysetAfter } from './keyset';
import type { ListParameters } from './scim-user.queries';

/** How to fetch one page, and how to turn the fetched rows into the page (and its next cursor). */
export interface PagePlan {
  readonly query: ListQuery;
  finish<Row extends { readonly position?: CursorPosition }>(rows: Row[]): { rows: Row[]; nextCursor?: string };
}

/**
 * Index paging (`startIndex`, the default) or RFC 9865 cursor paging (`cursor` present) of a
 * list of `resourceType` in `scope`. A cursor page asks for one row more than `count`: when it
 * comes back there is a next page, so `nextCursor` appears on every page but the last and never
 * leads to an empty page. The cursor is checked before anything is read.
 */
export async function planPage(
  keyring: CursorKeyring,
  resourceType: 'User' | 'Group',
  scope: string,
  params: ListParameters,
  where: ListQuery['where'],
  sort: SortKey | undefined,
): Promise<PagePlan> {
  const orderBy = sort && `${sort.expr} ${sort.dir}, seq ${sort.dir}`;
  const base = { ...(where ? { where } : {}), ...(orderBy ? { orderBy } : {}) };
  if (params.cursor === undefined) {
    return { query: { ...base, offset: params.startIndex - 1, limit: params.count }, finish: (rows) => ({ rows }) };
  }
  const codec = await keyring.cursors();
  const count = params.count;
  const binding = {
    scope,
    query: [resourceType, params.filter, params.sortBy, params.sortOrder, params.attributes, params.excludedAttributes],
    count,
  };
  const after = params.cursor === '' ? undefined : codec.decode(params.cursor, binding);
  return {
    query: {
      ...base,
      offset: 0,
      limit: count > 0 ? count + 1 : 0,
      positions: sort ? { keyExpr: sort.expr } : {},
      ...(after ? { keyset: keysetAfter(after, sort) } : {}),
    },
    finish(rows) {
      if (rows.length <= count) return { rows };
      const page = rows.slice(0, count);
      const last = page[page.length - 1].position;
      if (!last) throw new Error('a cursor page row carries no position');
      return { rows: page, nextCursor: codec.encode(binding, last) };
    },
  };
}
