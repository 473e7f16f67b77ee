import type { TokenEventMap } from '@app/auth';
import type { AccountEventMap, GroupEventMap, SamlGroupLinkEventMap, ScimGroupEventMap } from '@app/identity';

/**
 * Which fields of which event are a person's personal data (sealed under their key) and which
 * stay clear (ids, types, scopes, levels, reasons chosen from a list). `each` seals the named
 * keys of every element of an array of objects (a diff keeps its paths, loses its values).
 */
export type FieldClass = 'personal' | 'clear' | { readonly each: readonly string[] };

type Classified<M> = { readonly [K in keyof M]-?: { readonly [F in keyof M[K]]-?: FieldClass } };

/**
 * The account stream's events: the only ones that carry a person's data. Typed against the
 * event map, so a new event or a new field does not compile until it is classified here.
 */
export const ACCOUNT_FIELDS: Classified<AccountEventMap> = {
  UserProvisioned: {
    accountId: 'clear',
    username: 'personal',
    email: 'personal',
    displayName: 'personal',
    identityId: 'clear',
    scope: 'clear',
    userName: 'personal',
    externalId: 'personal',
    samlNameId: 'personal',
    attributes: 'personal',
    active: 'clear',
  },
  IdentityLinked: {
    accountId: 'clear',
    identityId: 'clear',
    scope: 'clear',
    userName: 'personal',
    externalId: 'personal',
    samlNameId: 'personal',
    attributes: 'personal',
    active: 'clear',
    reason: 'clear',
  },
  UserProfileUpdated: { accountId: 'clear', identityId: 'clear', scope: 'clear', changes: { each: ['from', 'to'] } },
  UserNameChanged: { accountId: 'clear', identityId: 'clear', scope: 'clear', from: 'personal', to: 'personal' },
  ExternIdChanged: {
    accountId: 'clear',
    identityId: 'clear',
    scope: 'clear',
    from: 'personal',
    to: 'personal',
    samlNameIdFrom: 'personal',
    samlNameIdTo: 'personal',
  },
  EmailChanged: { accountId: 'clear', from: 'personal', to: 'personal' },
  IdentityDeactivated: { accountId: 'clear', identityId: 'clear', scope: 'clear' },
  IdentityReactivated: { accountId: 'clear', identityId: 'clear', scope: 'clear' },
  IdentityDeleted: { accountId: 'clear', identityId: 'clear', scope: 'clear' },
  IdentityUnlinked: { accountId: 'clear', identityId: 'clear', scope: 'clear' },
  UserBlocked: { accountId: 'clear', reason: 'clear', scope: 'clear' },
  UserUnblocked: { accountId: 'clear', reason: 'clear', scope: 'clear' },
  ScimGroupMembersAdded: { accountId: 'clear', groupId: 'clear', scope: 'clear', members: 'clear' },
  // `cause` is our own text ("identity deactivated", "scim group sync"), never a client value.
  ScimGroupMembersRemoved: { accountId: 'clear', groupId: 'clear', scope: 'clear', members: 'clear', cause: 'clear' },
  GroupMembershipChanged: {
    accountId: 'clear',
    groupId: 'clear',
    source: 'clear',
    from: 'clear',
    to: 'clear',
    effectiveFrom: 'clear',
    effectiveTo: 'clear',
    cause: 'clear',
  },
  // Keyed hashes of what they held (HMAC-SHA256, the instance's identifier key): not readable, only recognisable.
  AccountErased: { accountId: 'clear', uniqueValues: 'clear', identifiers: 'clear' },
};

/**
 * Events of streams that belong to no person. Their fields must all be clear: there is no key
 * to seal them under. A group's or a token's name is the operator's label, not a person's data.
 */
type AllClear<M> = { readonly [K in keyof M]-?: { readonly [F in keyof M[K]]-?: 'clear' } };

const SCIM_GROUP_FIELDS: AllClear<ScimGroupEventMap> = {
  ScimGroupCreated: { groupId: 'clear', scope: 'clear', displayName: 'clear', externalId: 'clear' },
  ScimGroupRenamed: { groupId: 'clear', scope: 'clear', from: 'clear', to: 'clear' },
  ScimGroupExternalIdChanged: { groupId: 'clear', scope: 'clear', from: 'clear', to: 'clear' },
  ScimGroupDeleted: { groupId: 'clear', scope: 'clear', displayName: 'clear' },
};
const GROUP_FIELDS: AllClear<GroupEventMap & SamlGroupLinkEventMap> = {
  GroupCreated: {
    groupId: 'clear',
    path: 'clear',
    name: 'clear',
    fullPath: 'clear',
    parentId: 'clear',
    topLevelId: 'clear',
    defaultMembershipRole: 'clear',
    verifiedDomains: 'clear',
  },
  GroupSettingsChanged: { groupId: 'clear', defaultMembershipRole: 'clear', verifiedDomains: 'clear' },
  SamlGroupLinkAdded: { linkId: 'clear', samlGroupName: 'clear', groupId: 'clear', accessLevel: 'clear' },
  SamlGroupLinkRemoved: { linkId: 'clear', samlGroupName: 'clear', groupId: 'clear' },
};
const TOKEN_FIELDS: AllClear<TokenEventMap> = {
  ScimTokenIssued: { tokenId: 'clear', scope: 'clear', name: 'clear', sha256: 'clear', expiresAt: 'clear' },
  ScimTokenRevoked: { tokenId: 'clear', scope: 'clear' },
  ManagementTokenIssued: { tokenId: 'clear', role: 'clear', name: 'clear', sha256: 'clear', expiresAt: 'clear', pii: 'clear', bootstrap: 'clear' },
  ManagementTokenRevoked: { tokenId: 'clear', role: 'clear' },
};

/**
 * Events written outside a family (bookkeeping and records of requests). Each says why it
 * holds no personal data; the spec fails for an appended type that is in no list here.
 */
export const OTHER_EVENTS: Readonly<Record<string, string>> = {
  ValueReserved: 'kind, scope and owner ids; the value is only a hash in the stream name',
  ValueReleased: 'as ValueReserved',
  ProvisioningRejected: 'reason, status, attribute name and target id; never a value from the body (rejection-recorder.ts)',
  SupportDataRead: 'what was read and the account id',
  AuditExported: 'a range and a format',
  AuditCheckpointSigned: 'hashes and positions',
  AuditSigningKeyPublished: 'a public key',
  AsyncRequestCompleted: 'statuses, locations and versions of an asynchronous request (libs/events); error bodies name attributes, never their values',
  SetSigningKeyPublished: 'a public key of a SET signing key (libs/events/src/keys)',
  SetSigningKeyRetired: 'a key id',
};

/**
 * An asynchronous request's accepted body is personal data the server needs only until the
 * request has run: it is sealed under a key of the request's own (the stream's key owner), which
 * is destroyed once `AsyncRequestCompleted` is stored, so no request body outlives its request.
 */
export const ASYNC_REQUEST_FIELDS: Readonly<Record<string, Readonly<Record<string, FieldClass>>>> = {
  AsyncRequestAccepted: {
    txn: 'clear',
    scope: 'clear',
    tokenId: 'clear',
    method: 'clear',
    path: 'clear',
    bulk: 'clear',
    url: 'personal',
    body: 'personal',
    ifMatch: 'clear',
    userAgent: 'clear',
    tokenSha256Prefix: 'clear',
    acceptedBy: 'clear',
  },
  AsyncRequestCompleted: { txn: 'clear', scope: 'clear', operations: 'clear' },
};
export const ASYNC_REQUEST_STREAM_PREFIX = 'async-request-';
/** The event whose storing destroys the request's key. */
export const ASYNC_REQUEST_COMPLETED = 'AsyncRequestCompleted';

/** Every classified event type (the spec compares it with what the code appends). */
export const CLASSIFIED_TYPES: ReadonlySet<string> = new Set([
  ...Object.keys(ACCOUNT_FIELDS),
  ...Object.keys(SCIM_GROUP_FIELDS),
  ...Object.keys(GROUP_FIELDS),
  ...Object.keys(TOKEN_FIELDS),
  ...Object.keys(OTHER_EVENTS),
  ...Object.keys(ASYNC_REQUEST_FIELDS),
]);

/** The stream prefix of a person's events; the rest of the stream id is the person (account) id. */
export const PERSON_STREAM_PREFIX = 'account-';

/**
 * Whose key seals a stream's personal fields: a person (the account id), or an asynchronous
 * request (its stream id, which no account id can equal). Other streams hold no personal data.
 */
export function personOfStream(streamId: string): string | undefined {
  if (streamId.startsWith(PERSON_STREAM_PREFIX)) return streamId.slice(PERSON_STREAM_PREFIX.length);
  if (streamId.startsWith(ASYNC_REQUEST_STREAM_PREFIX)) return streamId;
  return undefined;
}

/** Fields that stay clear on a person's event of a type this table does not know: ids only. */
const CLEAR_BY_DEFAULT = new Set(['accountId', 'identityId', 'groupId', 'scope']);

/** How to treat one field of one event type on a person's stream. Unknown types: sealed but for ids. */
export function classOf(type: string, field: string): FieldClass {
  const known = (ACCOUNT_FIELDS as Readonly<Record<string, Readonly<Record<string, FieldClass>>>>)[type] ?? ASYNC_REQUEST_FIELDS[type];
  if (known) return known[field] ?? 'personal';
  return CLEAR_BY_DEFAULT.has(field) ? 'clear' : 'personal';
}
