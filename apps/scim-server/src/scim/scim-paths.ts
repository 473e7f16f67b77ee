import { PreconditionFailed } from '@app/identity';
import { parseEtag } from '@app/scim';
/** Every SCIM route exists under both bases: the instance scope and a top-level group's scope. */
export function scimPaths(resource: string): string[] {
  const suffix = resource ? `/${resource}` : '';
  return [`application${suffix}`, `groups/:groupPath${suffix}`];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Query parameters arrive as string | string[]; SCIM takes the first of each. */
export function queryParam(query: Record<string, unknown>, name: string): string | undefined {
  const key = Object.keys(query).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : query[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : undefined;
}

/** If-Match as the expected revision: `*` or absent means any, an unknown tag can never match. */
export function ifMatchRevision(header: string | string[] | undefined): bigint | undefined {
  const parsed = parseEtag(Array.isArray(header) ? header[0] : header);
  if (parsed === 'invalid') throw new PreconditionFailed('If-Match does not name a version of this resource');
  return parsed === '*' ? undefined : parsed;
}

const RESOURCES = ['Users', 'Groups', 'Me', 'Bulk', 'Schemas', 'ResourceTypes', 'ServiceProviderConfig'];
const CANONICAL = new Map(RESOURCES.map((r) => [r.toLowerCase(), r]));
const RESOURCE_SEGMENT = /^(\/api\/scim\/v2\/(?:application|groups\/[^/?#]+)\/)([A-Za-z]+)(?=[/?#]|$)/;

/**
 * SCIM resource endpoints are matched case-insensitively (`/users` is `/Users`: some client
 * libraries send them so). Only the resource segment is rewritten: group paths, ids and the
 * rest of the URL are data and keep their case, which Fastify's router-wide `caseSensitive:
 * false` would not promise for every other route.
 */
export function canonicalScimUrl(url: string): string {
  const m = RESOURCE_SEGMENT.exec(url);
  if (!m) return url;
  const canonical = CANONICAL.get(m[2].toLowerCase());
  return canonical === undefined || canonical === m[2] ? url : `${m[1]}${canonical}${url.slice(m[0].length)}`;
}
