import type { AccessLevel } from './access-level';
import { eventFamily } from './event-family';
import type { ScopeId } from './scope';

/**
 * The SCIM attribute document of one identity as the IdP sent it, in canonical attribute
 * spelling, without server-owned parts (id, meta, groups) and never a password.
 */
export type AttributeDocument = { readonly [attribute: string]: unknown };

/** One field-level change, for diffs in timelines and audit exports. */
export interface FieldChange {
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

/**
 * An identifier an erased person held, kept as a keyed hash (`hashIdentifier`), never the
 * value: support can still say "this NameID belonged to an erased person", nobody can read it.
 */
export interface ErasedIdentifier {
  kind: string;
  hash: string;
  identityId: string | null;
  scope: string | null;
  from: string;
  to: string | null;
}

export type MembershipSource = 'scim_provisioning' | 'scim_group_sync' | 'admin';

/** Events of the `account-{accountId}` stream: the person, their identities and memberships. */
export interface AccountEventMap {
  /** A SCIM POST created a new account together with its first identity. */
  UserProvisioned: {
    accountId: string;
    username: string;
    email?: string;
    displayName?: string;
    identityId: string;
    scope: ScopeId;
    userName: string;
    externalId?: string;
    samlNameId: string;
    attributes: AttributeDocument;
    active: boolean;
  };
  /** An existing account got an identity in one more scope. */
  IdentityLinked: {
    accountId: string;
    identityId: string;
    scope: ScopeId;
    userName: string;
    externalId?: string;
    samlNameId: string;
    attributes: AttributeDocument;
    active: boolean;
    reason: 'email_match' | 'remediation';
  };
  UserProfileUpdated: { accountId: string; identityId: string; scope: ScopeId; changes: FieldChange[] };
  UserNameChanged: { accountId: string; identityId: string; scope: ScopeId; from: string; to: string };
  ExternIdChanged: {
    accountId: string;
    identityId: string;
    scope: ScopeId;
    from?: string;
    to?: string;
    samlNameIdFrom: string;
    samlNameIdTo: string;
  };
  EmailChanged: { accountId: string; from?: string; to?: string };
  IdentityDeactivated: { accountId: string; identityId: string; scope: ScopeId };
  IdentityReactivated: { accountId: string; identityId: string; scope: ScopeId };
  IdentityDeleted: { accountId: string; identityId: string; scope: ScopeId };
  IdentityUnlinked: { accountId: string; identityId: string; scope: ScopeId };
  UserBlocked: { accountId: string; reason: 'scim_deprovisioned'; scope: ScopeId };
  UserUnblocked: { accountId: string; reason: 'scim_reprovisioned'; scope: ScopeId };
  /** Identities of this account joined a SCIM group (recorded on the member's stream, so a
   * membership change costs the same in a 10- and a 50,000-member group). */
  ScimGroupMembersAdded: { accountId: string; groupId: string; scope: ScopeId; members: string[] };
  ScimGroupMembersRemoved: { accountId: string; groupId: string; scope: ScopeId; members: string[]; cause: string };
  GroupMembershipChanged: {
    accountId: string;
    groupId: string;
    source: MembershipSource;
    /** This source's level before and after; null = no membership from this source. */
    from: AccessLevel | null;
    to: AccessLevel | null;
    /** Effective level (highest across sources) before and after. */
    effectiveFrom: AccessLevel | null;
    effectiveTo: AccessLevel | null;
    cause: string;
  };
  /**
   * The person's personal data was erased (GDPR Art. 17): their data key is destroyed right
   * after this commit. Ids only. `uniqueValues` says whether their userNames, NameIDs, email and
   * username were released in the same commit or stay reserved.
   */
  AccountErased: { accountId: string; uniqueValues: 'released' | 'kept'; identifiers?: ErasedIdentifier[] };
}

export type AccountEventType = keyof AccountEventMap;
export type AccountEvent = { [K in AccountEventType]: { type: K; data: AccountEventMap[K] } }[AccountEventType];

export const ACCOUNT_EVENT_TYPES = [
  'UserProvisioned',
  'IdentityLinked',
  'UserProfileUpdated',
  'UserNameChanged',
  'ExternIdChanged',
  'EmailChanged',
  'IdentityDeactivated',
  'IdentityReactivated',
  'IdentityDeleted',
  'IdentityUnlinked',
  'UserBlocked',
  'UserUnblocked',
  'ScimGroupMembersAdded',
  'ScimGroupMembersRemoved',
  'GroupMembershipChanged',
  'AccountErased',
] as const satisfies readonly AccountEventType[];

/** The account family's one decoder and encoder: stored events become `AccountEvent`s here and nowhere else. */
export const accountEvents = eventFamily<AccountEvent>(ACCOUNT_EVENT_TYPES);

export function accountStream(accountId: string): string {
  return `account-${accountId}`;
}
