import { type AccessLevel, type AccountCommand, type AccountState, groupScope, InvalidCommand, ResourceNotFound, type ScopeId } from '@app/identity';
import type { RemediationRequest } from './remediation.command';

/** The account a remediation is about, and what it must be looked up by. */
export type RemediationTarget = { readonly accountId: string } | { readonly identityId: string };

/**
 * Which account (or identity, whose account the caller looks up) a remediation concerns. A link
 * names its account; every other action names the identity to fix.
 */
export function remediationTarget(r: RemediationRequest): RemediationTarget {
  if (r.action === 'link') {
    if (!r.accountId || !r.userName) throw new InvalidCommand('link needs accountId and userName (and optionally externalId, groupPath)', 'accountId');
    return { accountId: r.accountId };
  }
  if (!r.scimId) throw new InvalidCommand(`${r.action} needs scimId`, 'scimId');
  return { identityId: r.scimId };
}

/** What the planner needs besides the request: facts the handler loaded. */
export interface RemediationFacts {
  readonly accountId: string;
  /** The account as its stream folds now. */
  readonly state: AccountState;
  /** link with a groupPath: that top-level group. */
  readonly group?: { readonly id: string; readonly defaultMembershipLevel: AccessLevel };
  /** link: the id the new identity gets. */
  readonly newIdentityId: string;
  /** The clock's reading, which the events carry as their time. */
  readonly now: string;
}

export interface RemediationPlan {
  readonly scope: ScopeId;
  readonly command: AccountCommand;
}

const NO_GROUPS = { hierarchyGroupIds: [] as string[], soleOwnerGroupIds: [] as string[] };

/**
 * The account command a remediation stands for. Pure: support's fixes go through the same
 * decider as the IdP's requests, so a remediation can do nothing the SCIM API could not.
 * Remediations touch no group memberships beyond a link's default one (`NO_GROUPS`).
 */
export function planRemediation(r: RemediationRequest, facts: RemediationFacts): RemediationPlan {
  const plan = commandFor(r, facts);
  if (!facts.state.exists) throw new ResourceNotFound('Account', facts.accountId);
  return plan;
}

function commandFor(r: RemediationRequest, { state, group, newIdentityId, now }: RemediationFacts): RemediationPlan {
  if (r.action === 'link') {
    if (!r.userName) throw new InvalidCommand('link needs accountId and userName (and optionally externalId, groupPath)', 'accountId');
    const scope: ScopeId = group ? groupScope(group.id) : 'application';
    return {
      scope,
      command: {
        type: 'LinkIdentity',
        now,
        identityId: newIdentityId,
        scope,
        attributes: { userName: r.userName, ...(r.externalId ? { externalId: r.externalId } : {}) },
        active: true,
        reason: 'remediation',
        reprovision: group ? { defaultMembership: { groupId: group.id, level: group.defaultMembershipLevel } } : {},
      },
    };
  }
  const identity = r.scimId ? state.identities[r.scimId] : undefined;
  if (!r.scimId || !identity) throw new ResourceNotFound('Identity', r.scimId ?? '');
  const scope = identity.scope;
  switch (r.action) {
    case 'unlink':
      return { scope, command: { type: 'UnlinkIdentity', now, identityId: r.scimId, deprovision: NO_GROUPS } };
    case 'reactivate':
      return {
        scope,
        command: { type: 'UpdateIdentity', now, identityId: r.scimId, attributes: identity.attributes, active: true, revive: true, deprovision: NO_GROUPS, reprovision: {} },
      };
    case 'change-external-id':
      if (!r.externalId) throw new InvalidCommand('change-external-id needs externalId', 'externalId');
      return {
        scope,
        command: { type: 'UpdateIdentity', now, identityId: r.scimId, attributes: { ...identity.attributes, externalId: r.externalId }, deprovision: NO_GROUPS, reprovision: {} },
      };
  }
}
