import type { AttributeDocument } from '@app/identity';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** What rendering a SCIM User needs, from the write side or the read side alike. */
export interface UserView {
  readonly id: string;
  readonly attributes: AttributeDocument;
  readonly active: boolean;
  readonly created: string;
  readonly lastModified: string;
  /** Account stream revision. */
  readonly version: string;
  readonly groups?: readonly { value: string; display?: string }[];
}

export function weakEtag(version: string): string {
  return `W/"${version}"`;
}

/**
 * Parses an If-Match / If-None-Match header into a revision. `*` matches anything;
 * anything unparseable matches nothing (so a stale or foreign tag gets its 412).
 */
export function parseEtag(header: string | undefined): bigint | '*' | 'invalid' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  const m = /^(?:W\/)?"(\d{1,18})"$/.exec(value);
  return m ? BigInt(m[1]) : 'invalid';
}

/** The SCIM User resource: stored attributes plus the server-owned id, active, groups, meta. */
export function renderUser(view: UserView, baseUrl: string): Record<string, unknown> {
  const { userName, externalId, ...rest } = view.attributes as Record<string, unknown>;
  const schemas = rest[ENTERPRISE_USER_SCHEMA] !== undefined ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA];
  return {
    schemas,
    id: view.id,
    ...(externalId !== undefined ? { externalId } : {}),
    userName,
    ...rest,
    active: view.active,
    ...(view.groups && view.groups.length > 0
      ? {
          groups: view.groups.map((g) => ({
            value: g.value,
            ...(g.display !== undefined ? { display: g.display } : {}),
            $ref: `${baseUrl}/Groups/${g.value}`,
            type: 'direct',
          })),
        }
      : {}),
    meta: {
      resourceType: 'User',
      created: view.created,
      lastModified: view.lastModified,
      location: `${baseUrl}/Users/${view.id}`,
      version: weakEtag(view.version),
    },
  };
}

/**
 * A ListResponse: an index page carries its `startIndex`; a cursor page (RFC 9865, `startIndex`
 * undefined) carries `nextCursor` unless it is the last.
 */
export function listResponse(resources: unknown[], totalResults: number, startIndex: number | undefined, nextCursor?: string): Record<string, unknown> {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    itemsPerPage: resources.length,
    ...(startIndex !== undefined ? { startIndex } : {}),
    ...(nextCursor !== undefined ? { nextCursor } : {}),
    Resources: resources,
  };
}
