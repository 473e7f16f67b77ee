import type { IdentityState } from '../account.decider';
import { UniquenessViolation } from '../errors';
import { foldValue } from '../reservations';
import { type ScopeId, scopeGroupId } from '../scope';
import { uniquenessDetail } from '../unit-of-work';

/**
 * What a POST /Users does with the values it sends, decided here and nowhere else
 * (10-domain.md, "Lifecycle rules"):
 *
 * - 409 `uniqueness` when a live (active, not deleted) identity of the scope holds the
 *   POSTed `externalId` or `userName`.
 * - **Re-POSTing a deactivated or deleted user brings it back with the same SCIM id**
 *   (`revive`): the inactive identity whose `externalId` is the POSTed one; failing that, the
 *   inactive identity holding the POSTed `userName` with no `externalId` (it adopts the new
 *   one). An inactive identity with that `userName` but another `externalId` is a different
 *   person: 409, nothing changes (support may relink it). Without `externalId`, the inactive
 *   identity holding the `userName` comes back. What reviving does to the account is the
 *   account decider's `UpdateIdentity` with `revive`.
 * - No identity matched, an account holds the email: `link` it — in a group scope only when
 *   the email's domain is one the group verified; otherwise 409 (an admin or support links it).
 * - Otherwise `provision` a new account.
 *
 * Pure: the handler loads the facts (reservation holders, the group's verified domains)
 * and runs the account command the match names.
 */
export function matchScimUser(request: ScimUserPost, facts: ScimUserMatchFacts): ScimUserMatch {
  const { externalId } = request;
  const { externalIdHolder, userNameHolder } = facts;

  if (externalId !== undefined && externalIdHolder) {
    const { identity } = externalIdHolder;
    const sameExternalId = identity.externalId !== undefined && foldValue(identity.externalId) === foldValue(externalId);
    if (!sameExternalId || isLive(identity)) return conflict('nameId', uniquenessDetail('nameId'), identity.id);
    if (userNameHolder && userNameHolder.identity.id !== identity.id) {
      return conflict('userName', uniquenessDetail('userName'), userNameHolder.identity.id);
    }
    return { kind: 'revive', accountId: externalIdHolder.accountId, identityId: identity.id };
  }

  if (userNameHolder) {
    const { identity } = userNameHolder;
    if (isLive(identity)) return conflict('userName', uniquenessDetail('userName'), identity.id);
    if (externalId !== undefined && identity.externalId !== undefined) {
      return conflict('userName', 'userName is held by an inactive identity with a different externalId in this scope', identity.id);
    }
    return { kind: 'revive', accountId: userNameHolder.accountId, identityId: identity.id };
  }

  if (request.email !== undefined && facts.emailHolder) {
    if (scopeGroupId(request.scope) !== undefined && !isVerified(request.email, facts.verifiedDomains ?? [])) {
      return conflict(
        'email',
        'An account with this email already exists and its domain is not verified by this group; an administrator or support must link it',
      );
    }
    return { kind: 'link', accountId: facts.emailHolder.accountId };
  }

  return { kind: 'provision' };
}

/** The values of a POST /Users the match looks at. */
export interface ScimUserPost {
  readonly scope: ScopeId;
  readonly userName: string;
  readonly externalId?: string;
  /** The primary email. */
  readonly email?: string;
}

/** An identity of the scope holding a unique value, with its current state. */
export interface ScimUserHolder {
  readonly accountId: string;
  readonly identity: Pick<IdentityState, 'id' | 'externalId' | 'active' | 'deleted'>;
}

/** What the store says about the POSTed values, read before matching. */
export interface ScimUserMatchFacts {
  /** The identity holding the POSTed `externalId` as its SAML NameID in the scope (looked up only when one is POSTed). */
  readonly externalIdHolder?: ScimUserHolder;
  /** The identity holding the POSTed `userName` in the scope. */
  readonly userNameHolder?: ScimUserHolder;
  /** The account holding the POSTed email, instance-wide. */
  readonly emailHolder?: { readonly accountId: string };
  /** Group scope: the domains the top-level group verified (none when the group is gone). */
  readonly verifiedDomains?: readonly string[];
}

export type ScimUserMatch =
  | { readonly kind: 'conflict'; readonly error: UniquenessViolation }
  | { readonly kind: 'revive'; readonly accountId: string; readonly identityId: string }
  | { readonly kind: 'link'; readonly accountId: string }
  | { readonly kind: 'provision' };

function isLive(identity: ScimUserHolder['identity']): boolean {
  return identity.active && !identity.deleted;
}

function isVerified(email: string, verifiedDomains: readonly string[]): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return verifiedDomains.some((d) => d.toLowerCase() === domain);
}

function conflict(kind: UniquenessViolation['kind'], detail: string, holderId?: string): ScimUserMatch {
  return { kind: 'conflict', error: new UniquenessViolation(kind, detail, holderId) };
}
