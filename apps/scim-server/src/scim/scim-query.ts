import { DEFAULT_PAGE_SIZE, ScimError } from '@app/scim';
import type { ListParameters } from '@app/read-models';
import { queryParam } from './scim-paths';

export interface Selection {
  readonly attributes?: string;
  readonly excludedAttributes?: string;
}

/**
 * RFC 7644 §3.4.2.4 paging: startIndex 1-based (< 1 means 1), count capped, 0 = totals only.
 * RFC 9865: a `cursor` parameter, even empty, asks for cursor paging instead (never both).
 */
export function listParameters(source: Record<string, unknown>, maxResults: number, fromBody = false): ListParameters & Selection {
  const get = (name: string): unknown => {
    if (!fromBody) return queryParam(source, name);
    const key = Object.keys(source).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : source[key];
  };
  const integer = (name: string, fallback: number): number => {
    const raw = get(name);
    if (raw === undefined || raw === null || raw === '') return fallback;
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isFinite(n)) throw ScimError.invalidValue(`${name} must be an integer`, name);
    return Math.trunc(n);
  };
  const text = (name: string): string | undefined => {
    const raw = get(name);
    if (raw === undefined || raw === null) return undefined;
    if (Array.isArray(raw) && fromBody) return raw.map(String).join(',');
    if (typeof raw !== 'string') throw ScimError.invalidValue(`${name} must be a string`, name);
    return raw;
  };
  const cursor = text('cursor');
  if (cursor !== undefined && get('startIndex') !== undefined && get('startIndex') !== null) {
    throw ScimError.invalidValue('startIndex and cursor cannot be used together: page by one or the other', 'startIndex');
  }
  const startIndex = Math.max(1, integer('startIndex', 1));
  const count = Math.min(Math.max(0, integer('count', DEFAULT_PAGE_SIZE)), maxResults);
  const filter = text('filter');
  const sortBy = text('sortBy');
  const sortOrder = text('sortOrder');
  const attributes = text('attributes');
  const excludedAttributes = text('excludedAttributes');
  return {
    startIndex,
    count,
    ...(filter !== undefined ? { filter } : {}),
    ...(sortBy !== undefined ? { sortBy } : {}),
    ...(sortOrder !== undefined ? { sortOrder } : {}),
    ...(attributes !== undefined ? { attributes } : {}),
    ...(excludedAttributes !== undefined ? { excludedAttributes } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}

export function selection(query: Record<string, unknown>): Selection {
  const attributes = queryParam(query, 'attributes');
  const excludedAttributes = queryParam(query, 'excludedAttributes');
  return {
    ...(attributes !== undefined ? { attributes } : {}),
    ...(excludedAttributes !== undefined ? { excludedAttributes } : {}),
  };
}
