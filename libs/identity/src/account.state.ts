import type { AccessLevel } from './access-level';
import type { AttributeDocument, MembershipSource } from './events';
import type { ScopeId } from './scope';

/**
 * The account's state: a person, every SCIM identity they have in any scope, and their
 * group memberships — what the account decider decides with, and what folding the
 * `account-{id}` stream with `evolve` (account.evolve.ts) yields.
 */

export interface IdentityState {
  readonly id: string;
  readonly scope: ScopeId;
  readonly userName: string;
  readonly externalId?: string;
  /** The value SAML sign-in must present as NameID (GitLab's extern_uid). */
  readonly samlNameId: string;
  /** SCIM attributes as sent (canonical spelling), including userName and externalId. */
  readonly attributes: AttributeDocument;
  readonly active: boolean;
  /** Deleted through SCIM: gone from SCIM reads, kept in history, revivable by a POST. */
  readonly deleted: boolean;
  /** Unlinked by support: the identity no longer exists in its scope. */
  readonly unlinked: boolean;
  readonly created: string;
  readonly lastModified: string;
  /** SCIM groups (ids) this identity is a member of. */
  readonly scimGroups: readonly string[];
}

export type MembershipSources = Partial<Record<MembershipSource, AccessLevel>>;

export interface AccountState {
  readonly exists: boolean;
  readonly id: string;
  readonly username: string;
  readonly email?: string;
  readonly displayName?: string;
  readonly blocked: boolean;
  readonly identities: Readonly<Record<string, IdentityState>>;
  /** groupId → level granted by each source; the effective level is the highest. */
  readonly memberships: Readonly<Record<string, MembershipSources>>;
  readonly created?: string;
  /** Erased (AccountErased): no command applies any more; a new POST makes a new account. */
  readonly erased?: boolean;
}

export function initialState(): AccountState {
  return { exists: false, id: '', username: '', blocked: false, identities: {}, memberships: {} };
}

export function effectiveLevel(sources: MembershipSources | undefined): AccessLevel | null {
  if (!sources) return null;
  const levels = Object.values(sources).filter((l): l is AccessLevel => typeof l === 'number');
  return levels.length ? (Math.max(...levels) as AccessLevel) : null;
}

/** The identity an account has in a scope (live or deleted, never unlinked). */
export function identityInScope(state: AccountState, scope: ScopeId): IdentityState | undefined {
  return Object.values(state.identities).find((i) => i.scope === scope && !i.unlinked);
}
