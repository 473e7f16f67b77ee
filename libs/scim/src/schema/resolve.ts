import { attr, str } from './attribute-builders';
import { ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_URN } from './enterprise-user.schema';
import { GROUP_SCHEMA_DEFINITION } from './group.schema';
import type { AttributeDefinition, ResolvedAttribute, ResourceSchema, SchemaDefinition } from './schema.types';
import { USER_SCHEMA } from './user.schema';

export type ResourceTypeName = 'User' | 'Group';

/** RFC 7643 §3.1: attributes every resource has, outside any schema's attribute list. */
export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  str('id', 'A unique identifier for a SCIM resource as defined by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  // Not caseExact: externalId is unique as the identifier fold reads it (a SAML NameID), so
  // `externalId eq` compares folded too — a value a 409 calls taken is always found.
  str('externalId', 'An identifier for the resource as defined by the provisioning client.'),
  attr('meta', 'complex', 'A complex attribute containing resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', 'The name of the resource type of the resource.', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', 'The DateTime that the resource was added to the service provider.', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', 'The most recent DateTime that the details of this resource were updated.', { mutability: 'readOnly' }),
      attr('location', 'reference', 'The URI of the resource being returned.', { caseExact: true, mutability: 'readOnly' }),
      str('version', 'The version of the resource being returned.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export const USER_RESOURCE: ResourceSchema = { core: USER_SCHEMA, extensions: [ENTERPRISE_USER_SCHEMA] };
export const GROUP_RESOURCE: ResourceSchema = { core: GROUP_SCHEMA_DEFINITION, extensions: [] };

export function resourceSchema(type: ResourceTypeName): ResourceSchema {
  return type === 'User' ? USER_RESOURCE : GROUP_RESOURCE;
}

const cache = new Map<string, ResolvedAttribute | null>();

/**
 * Resolves an attribute path (`userName`, `name.familyName`, `emails.value`, URN-qualified
 * `urn:…:User:userName`, extension `urn:…:enterprise:2.0:User:manager.value`) to its
 * definition, case-insensitively. `manager` alone means the enterprise manager, as Entra
 * sends it. Unknown paths resolve to undefined.
 */
export function resolveAttribute(type: ResourceTypeName, path: string): ResolvedAttribute | undefined {
  const key = `${type}|${path.toLowerCase()}`;
  let hit = cache.get(key);
  if (hit === undefined) {
    hit = resolveUncached(resourceSchema(type), path) ?? null;
    if (cache.size < 10_000) cache.set(key, hit);
  }
  return hit ?? undefined;
}

function resolveUncached(resource: ResourceSchema, path: string): ResolvedAttribute | undefined {
  if (typeof path !== 'string' || path.length === 0 || path.length > 512) return undefined;
  const lower = path.toLowerCase();
  if (lower.startsWith('urn:')) {
    for (const schema of [resource.core, ...resource.extensions]) {
      const prefix = `${schema.id.toLowerCase()}:`;
      if (lower.startsWith(prefix)) return resolveIn(schema, path.slice(prefix.length), schema !== resource.core, resource);
    }
    return undefined;
  }
  const core = resolveIn(resource.core, path, false, resource);
  if (core) return core;
  if (resource.extensions.some((s) => s.id === ENTERPRISE_USER_URN) && /^manager(\.|$)/i.test(path)) {
    return resolveIn(ENTERPRISE_USER_SCHEMA, path, true, resource);
  }
  return undefined;
}

function resolveIn(schema: SchemaDefinition, rest: string, extension: boolean, resource: ResourceSchema): ResolvedAttribute | undefined {
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) return undefined;
  const [name, sub] = parts;
  const pool = extension ? schema.attributes : [...schema.attributes, ...(schema === resource.core ? COMMON_ATTRIBUTES : [])];
  const attribute = findByName(pool, name);
  if (!attribute) return undefined;
  let subAttribute: AttributeDefinition | undefined;
  if (sub !== undefined) {
    subAttribute = findByName(attribute.subAttributes ?? [], sub);
    if (!subAttribute) return undefined;
  }
  const base = extension ? `${schema.id}:${attribute.name}` : attribute.name;
  return {
    schema: schema.id,
    attribute,
    ...(subAttribute ? { subAttribute } : {}),
    canonicalPath: subAttribute ? `${base}.${subAttribute.name}` : base,
  };
}

export function findByName(pool: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return pool.find((a) => a.name.toLowerCase() === lower);
}

/** The definition the path finally names (the sub-attribute when there is one). */
export function leaf(resolved: ResolvedAttribute): AttributeDefinition {
  return resolved.subAttribute ?? resolved.attribute;
}
