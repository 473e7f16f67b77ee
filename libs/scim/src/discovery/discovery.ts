import { ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_URN } from '../schema/enterprise-user.schema';
import { GROUP_SCHEMA_DEFINITION, GROUP_SCHEMA_URN } from '../schema/group.schema';
import { attr, str } from '../schema/attribute-builders';
import type { AttributeDefinition, SchemaDefinition } from '../schema/schema.types';
import { USER_SCHEMA, USER_SCHEMA_URN } from '../schema/user.schema';

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SPC_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RT_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export interface ServiceProviderOptions {
  readonly baseUrl: string;
  readonly maxResults: number;
  readonly maxOperations: number;
  readonly maxPayloadSize: number;
  readonly documentationUri?: string;
  /** RFC 9865 `pagination.cursorTimeout`, seconds (default one hour). */
  readonly cursorTimeout?: number;
}

/**
 * RFC 9967 §4: the SCIM events this server can deliver (`eventUris`) and how it answers
 * `Prefer: respond-async` (`request`: asynchronously when the client asks, never by its own choice).
 */
export const SCIM_EVENT_URIS: readonly string[] = [
  'prov:create:notice',
  'prov:create:full',
  'prov:put:notice',
  'prov:put:full',
  'prov:patch:notice',
  'prov:patch:full',
  'prov:delete',
  'prov:activate',
  'prov:deactivate',
  'feed:add',
  'feed:remove',
  'misc:asyncresp',
].map((e) => `urn:ietf:params:scim:event:${e}`);
/** The page size a list without `count` gets (both paging methods). */
export const DEFAULT_PAGE_SIZE = 100;

/** The characteristics of an attribute definition (RFC 7643 §7), as the Schema schema lists them. */
const CHARACTERISTICS: AttributeDefinition[] = [
  str('name', "The attribute's name.", { required: true, caseExact: true, mutability: 'readOnly' }),
  str('type', "The attribute's data type.", { required: true, mutability: 'readOnly', canonicalValues: ['string', 'complex', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'binary'] }),
  attr('multiValued', 'boolean', 'A Boolean value indicating an attribute\'s plurality.', { required: true, mutability: 'readOnly' }),
  str('description', 'A human-readable description of the attribute.', { mutability: 'readOnly' }),
  attr('required', 'boolean', 'A boolean value indicating whether or not the attribute is required.', { mutability: 'readOnly' }),
  str('canonicalValues', 'A collection of canonical values.', { multiValued: true, mutability: 'readOnly' }),
  attr('caseExact', 'boolean', 'A Boolean value indicating whether or not a string attribute is case sensitive.', { mutability: 'readOnly' }),
  str('mutability', 'Indicates whether or not an attribute is modifiable.', { mutability: 'readOnly', canonicalValues: ['readOnly', 'readWrite', 'immutable', 'writeOnly'] }),
  str('returned', 'Indicates when an attribute is returned in a response.', { mutability: 'readOnly', canonicalValues: ['always', 'never', 'default', 'request'] }),
  str('uniqueness', 'Indicates how unique a value must be.', { mutability: 'readOnly', canonicalValues: ['none', 'server', 'global'] }),
  str('referenceTypes', 'The names of the resource types that may be referenced.', { multiValued: true, mutability: 'readOnly' }),
];

/** RFC 7643 §5, with real booleans: what this server actually supports. */
export function serviceProviderConfig(o: ServiceProviderOptions) {
  return {
    schemas: [SPC_URN],
    ...(o.documentationUri ? { documentationUri: o.documentationUri } : {}),
    patch: { supported: true },
    bulk: { supported: true, maxOperations: o.maxOperations, maxPayloadSize: o.maxPayloadSize },
    filter: { supported: true, maxResults: o.maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    securityEvents: { asyncRequest: 'request', eventUris: [...SCIM_EVENT_URIS] },
    // RFC 9865 §3; index stays the default: Okta and Entra page by startIndex.
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: DEFAULT_PAGE_SIZE,
      maxPageSize: o.maxResults,
      cursorTimeout: o.cursorTimeout ?? 3600,
    },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a SCIM token of this scope in the Authorization header (Bearer).',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${o.baseUrl}/ServiceProviderConfig` },
  };
}

function resourceTypeList(baseUrl: string) {
  return [
    {
      schemas: [RT_URN],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA_URN,
      schemaExtensions: [{ schema: ENTERPRISE_USER_URN, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [RT_URN],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: GROUP_SCHEMA_URN,
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

export function resourceTypes(baseUrl: string) {
  const list = resourceTypeList(baseUrl);
  return { schemas: [LIST], totalResults: list.length, itemsPerPage: list.length, startIndex: 1, Resources: list };
}

export function findResourceType(baseUrl: string, id: string) {
  return resourceTypeList(baseUrl).find((r) => r.id.toLowerCase() === id.toLowerCase());
}

/** The schemas that describe the discovery resources themselves (RFC 7643 §8.7.2). */
const META_SCHEMAS: SchemaDefinition[] = [
  {
    id: SPC_URN,
    name: 'Service Provider Configuration',
    description: "Schema for representing the service provider's configuration",
    attributes: [
      attr('documentationUri', 'reference', 'An HTTP-addressable URL pointing to the service provider\'s human-consumable help documentation.', { mutability: 'readOnly', referenceTypes: ['external'] }),
      ...['patch', 'bulk', 'filter', 'changePassword', 'sort', 'etag'].map((name) =>
        attr(name, 'complex', `A complex type that specifies ${name} configuration options.`, {
          required: true,
          mutability: 'readOnly',
          subAttributes: [
            attr('supported', 'boolean', 'A Boolean value specifying whether or not the operation is supported.', { required: true, mutability: 'readOnly' }),
            ...(name === 'bulk'
              ? [
                  attr('maxOperations', 'integer', 'An integer value specifying the maximum number of operations.', { required: true, mutability: 'readOnly' }),
                  attr('maxPayloadSize', 'integer', 'An integer value specifying the maximum payload size in bytes.', { required: true, mutability: 'readOnly' }),
                ]
              : []),
            ...(name === 'filter'
              ? [attr('maxResults', 'integer', 'An integer value specifying the maximum number of resources returned in a response.', { required: true, mutability: 'readOnly' })]
              : []),
          ],
        }),
      ),
      attr('securityEvents', 'complex', 'SCIM security events (RFC 9967): asynchronous requests and the events this service provider can deliver.', {
        mutability: 'readOnly',
        subAttributes: [
          str('asyncRequest', 'When the service provider answers a request asynchronously: none, long (at its own discretion) or request (when the client sends Prefer: respond-async).', {
            required: true,
            caseExact: true,
            mutability: 'readOnly',
            canonicalValues: ['none', 'long', 'request'],
          }),
          attr('eventUris', 'reference', 'The event URIs the service provider can deliver.', { multiValued: true, caseExact: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
        ],
      }),
      attr('pagination', 'complex', 'A complex type that specifies pagination configuration options (RFC 9865).', {
        mutability: 'readOnly',
        subAttributes: [
          attr('cursor', 'boolean', 'A Boolean value specifying support of cursor-based pagination.', { required: true, mutability: 'readOnly' }),
          attr('index', 'boolean', 'A Boolean value specifying support of index-based pagination.', { required: true, mutability: 'readOnly' }),
          str('defaultPaginationMethod', 'The pagination method used when a list request names none.', { mutability: 'readOnly', canonicalValues: ['cursor', 'index'] }),
          attr('defaultPageSize', 'integer', 'The number of resources returned in a page when the request does not specify a count.', { mutability: 'readOnly' }),
          attr('maxPageSize', 'integer', 'The largest number of resources returned in a page.', { mutability: 'readOnly' }),
          attr('cursorTimeout', 'integer', 'The minimum number of seconds a cursor is valid after it was issued.', { mutability: 'readOnly' }),
        ],
      }),
      attr('authenticationSchemes', 'complex', 'A complex type that specifies supported authentication scheme properties.', {
        multiValued: true,
        required: true,
        mutability: 'readOnly',
        subAttributes: [
          str('type', 'The authentication scheme.', { required: true, mutability: 'readOnly', canonicalValues: ['oauth', 'oauth2', 'oauthbearertoken', 'httpbasic', 'httpdigest'] }),
          str('name', 'The common authentication scheme name.', { required: true, mutability: 'readOnly' }),
          str('description', 'A description of the authentication scheme.', { required: true, mutability: 'readOnly' }),
          attr('specUri', 'reference', 'An HTTP-addressable URL pointing to the authentication scheme\'s specification.', { mutability: 'readOnly', referenceTypes: ['external'] }),
          attr('documentationUri', 'reference', 'An HTTP-addressable URL pointing to the authentication scheme\'s usage documentation.', { mutability: 'readOnly', referenceTypes: ['external'] }),
          attr('primary', 'boolean', 'Whether this is the preferred scheme.', { mutability: 'readOnly' }),
        ],
      }),
    ],
  },
  {
    id: RT_URN,
    name: 'ResourceType',
    description: 'Specifies the schema that describes a SCIM resource type',
    attributes: [
      str('id', "The resource type's server unique id.", { mutability: 'readOnly' }),
      str('name', 'The resource type name.', { required: true, mutability: 'readOnly' }),
      str('description', "The resource type's human-readable description.", { mutability: 'readOnly' }),
      attr('endpoint', 'reference', "The resource type's HTTP-addressable endpoint relative to the Base URL.", { required: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
      attr('schema', 'reference', "The resource type's primary/base schema URI.", { required: true, caseExact: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
      attr('schemaExtensions', 'complex', 'A list of URIs of the resource type\'s schema extensions.', {
        multiValued: true,
        mutability: 'readOnly',
        subAttributes: [
          attr('schema', 'reference', 'The URI of a schema extension.', { required: true, caseExact: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
          attr('required', 'boolean', 'Whether the extension is required for this resource type.', { required: true, mutability: 'readOnly' }),
        ],
      }),
    ],
  },
  {
    id: SCHEMA_URN,
    name: 'Schema',
    description: 'Specifies the schema attribute definitions',
    attributes: [
      str('id', 'The unique URI of the schema.', { required: true, caseExact: true, mutability: 'readOnly' }),
      str('name', 'The schema\'s human-readable name.', { mutability: 'readOnly' }),
      str('description', 'The schema\'s human-readable description.', { mutability: 'readOnly' }),
      attr('attributes', 'complex', 'A complex attribute that includes the attributes of a schema.', {
        multiValued: true,
        required: true,
        mutability: 'readOnly',
        subAttributes: [
          ...CHARACTERISTICS,
          // RFC 7643 §8.7.2 describes a sub-attribute with the same characteristics (one level).
          attr('subAttributes', 'complex', 'Used to define the sub-attributes of a complex attribute.', {
            multiValued: true,
            mutability: 'readOnly',
            subAttributes: CHARACTERISTICS,
          }),
        ],
      }),
    ],
  },
];

function renderAttribute(a: AttributeDefinition): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    caseExact: a.caseExact,
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
    ...(a.canonicalValues && a.canonicalValues.length > 0 ? { canonicalValues: a.canonicalValues } : {}),
    ...(a.referenceTypes ? { referenceTypes: a.referenceTypes } : {}),
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(renderAttribute) } : {}),
  };
}

function renderSchema(s: SchemaDefinition, baseUrl: string) {
  return {
    schemas: [SCHEMA_URN],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes.map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${s.id}` },
  };
}

const ALL_SCHEMAS = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA_DEFINITION, ...META_SCHEMAS];

export function schemas(baseUrl: string) {
  const list = ALL_SCHEMAS.map((s) => renderSchema(s, baseUrl));
  return { schemas: [LIST], totalResults: list.length, itemsPerPage: list.length, startIndex: 1, Resources: list };
}

export function findSchema(baseUrl: string, urn: string) {
  const s = ALL_SCHEMAS.find((x) => x.id.toLowerCase() === urn.toLowerCase());
  return s ? renderSchema(s, baseUrl) : undefined;
}
