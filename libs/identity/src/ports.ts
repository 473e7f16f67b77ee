import type { AccessLevel } from './access-level';
import type { LinkRule } from './membership-sync';
import type { ScopeId } from './scope';

/** A group (GitLab namespace) as the domain needs it. */
export interface GroupInfo {
  readonly id: string;
  readonly fullPath: string;
  readonly parentId?: string;
  readonly topLevelId: string;
  readonly defaultMembershipLevel: AccessLevel;
  readonly verifiedDomains: readonly string[];
}

/**
 * Look-ups the write side needs that are not a single stream's state. Implemented over
 * the read models, which wait for this process's writes first (read-your-writes), so a
 * look-up never misses what this process just wrote; a miss also catches up with the
 * store's head before answering, so another instance's fresh write is found too.
 */
export interface IdentityDirectory {
  findIdentity(scope: ScopeId, identityId: string): Promise<{ accountId: string } | undefined>;
  group(groupId: string): Promise<GroupInfo | undefined>;
  groupByPath(fullPath: string): Promise<GroupInfo | undefined>;
  /** The top-level group and every descendant. */
  hierarchy(topLevelGroupId: string): Promise<string[]>;
  /** Groups among `groupIds` where `accountId` is the only member with the owner level. */
  soleOwnerGroups(accountId: string, groupIds: readonly string[]): Promise<string[]>;
  /** Identity ids that are members of a SCIM group (only for whole-list operations). */
  scimGroupMembers(scimGroupId: string): Promise<string[]>;
  /** Of `identityIds`, those that are live (not deleted) identities of `scope`, with their account. */
  liveIdentities(scope: ScopeId, identityIds: readonly string[]): Promise<Map<string, string>>;
  /** Identity → account for any identity ids (deleted ones included). */
  accountsOfIdentities(identityIds: readonly string[]): Promise<Map<string, string>>;
  /** Name and scope of SCIM groups by id (deleted ones omitted). */
  scimGroupInfo(scimGroupIds: readonly string[]): Promise<Record<string, { displayName: string; scope: ScopeId }>>;
  /** Every SAML group link. */
  links(): Promise<LinkRule[]>;
  /** Accounts with an identity in a SCIM group whose displayName (trimmed) is `name`, in any scope. */
  accountsInScimGroupsNamed(name: string): Promise<string[]>;
}

export const IDENTITY_DIRECTORY = Symbol('IDENTITY_DIRECTORY');

export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => new Date() };
