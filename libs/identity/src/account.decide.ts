import type { AccessLevel } from './access-level';
import { evolve } from './account.evolve';
import { setMembership } from './account.memberships';
import { type AccountState, type IdentityState, identityInScope } from './account.state';
import { diffDocuments, displayNameOf, primaryEmail } from './document';
import { Conflict, InvalidCommand, LastOwnerViolation, ResourceNotFound, UniquenessViolation } from './errors';
import type { Occurred } from './event-family';
import type { AccountEvent, AttributeDocument, ErasedIdentifier, MembershipSource } from './events';
import { type SyncContext, syncMemberships } from './membership-sync';
import { type ScopeId, scopeGroupId } from './scope';

/** What a group-scope deprovisioning touches, looked up by the handler beforehand. */
export interface DeprovisionContext {
  /** Every group id in the scope's top-level group hierarchy (the top-level group included). */
  readonly hierarchyGroupIds: readonly string[];
  /** Groups of the hierarchy where this account is the only owner. */
  readonly soleOwnerGroupIds: readonly string[];
}

export interface ReprovisionContext {
  /** Group scope: the top-level group and its default membership role. */
  readonly defaultMembership?: { readonly groupId: string; readonly level: AccessLevel };
}

/**
 * Every account command says when it is decided (`now`, ISO-8601, from the CLOCK of whoever
 * builds it); the events it causes carry that time, so `decide` and `evolve` read no clock.
 */
export type AccountCommand = { readonly now: string } & (
  | {
      readonly type: 'ProvisionUser';
      readonly accountId: string;
      readonly identityId: string;
      readonly scope: ScopeId;
      readonly username: string;
      readonly attributes: AttributeDocument;
      readonly active: boolean;
      readonly reprovision: ReprovisionContext;
    }
  | {
      readonly type: 'LinkIdentity';
      readonly identityId: string;
      readonly scope: ScopeId;
      readonly attributes: AttributeDocument;
      readonly active: boolean;
      readonly reason: 'email_match' | 'remediation';
      readonly reprovision: ReprovisionContext;
    }
  | {
      /** PUT, PATCH, or a re-POST that brings back an inactive identity. */
      readonly type: 'UpdateIdentity';
      readonly identityId: string;
      readonly attributes: AttributeDocument;
      /** Undefined: unchanged (a PUT never deprovisions by omission). */
      readonly active?: boolean;
      /** A re-POST also undeletes. */
      readonly revive?: boolean;
      readonly deprovision: DeprovisionContext;
      readonly reprovision: ReprovisionContext;
      /** When given, SCIM-group-derived access follows an activation change. */
      readonly sync?: SyncContext;
    }
  | {
      readonly type: 'DeleteIdentity';
      readonly identityId: string;
      readonly deprovision: DeprovisionContext;
      readonly sync?: SyncContext;
    }
  | {
      readonly type: 'UnlinkIdentity';
      readonly identityId: string;
      readonly deprovision: DeprovisionContext;
    }
  | {
      /** Identities of this account join or leave one SCIM group; access follows. */
      readonly type: 'ChangeScimGroupMembers';
      readonly groupId: string;
      readonly scope: ScopeId;
      readonly add: readonly string[];
      readonly remove: readonly string[];
      readonly sync: SyncContext;
      readonly cause: string;
    }
  | {
      /** Links or SCIM groups changed: recompute this account's sync-sourced access. */
      readonly type: 'ResyncMemberships';
      readonly sync: SyncContext;
      readonly cause: string;
    }
  | {
      /** Erasure (GDPR Art. 17): the data key is destroyed after this commit. */
      readonly type: 'EraseAccount';
      readonly keepUniqueValues: boolean;
      /** Every identifier the person held, hashed (support's history of them after the erasure). */
      readonly identifiers?: readonly ErasedIdentifier[];
    }
  | {
      readonly type: 'SetMembership';
      readonly groupId: string;
      /** The top-level group of `groupId`'s hierarchy: a grant there waits for an inactive SCIM identity. */
      readonly topLevelId: string;
      readonly source: MembershipSource;
      readonly level: AccessLevel | null;
      readonly cause: string;
    }
);

type Command<T extends AccountCommand['type']> = Extract<AccountCommand, { type: T }>;
type Events = Occurred<AccountEvent>[];

/** The events a command causes in a state, or a domain error. Pure. */
export function decide(command: AccountCommand, state: AccountState): Events {
  // An erased person is gone for every command: a re-provisioning makes a new account.
  if (state.erased) throw new ResourceNotFound('Account', state.id);
  switch (command.type) {
    case 'EraseAccount':
      if (!state.exists) throw new ResourceNotFound('Account', '');
      return [at(command.now)({ type: 'AccountErased', data: { accountId: state.id, uniqueValues: command.keepUniqueValues ? 'kept' : 'released', ...(command.identifiers ? { identifiers: [...command.identifiers] } : {}) } })];
    case 'ProvisionUser':
      return provision(command, state);
    case 'LinkIdentity':
      return link(command, state);
    case 'UpdateIdentity':
      return update(command, state);
    case 'DeleteIdentity':
      return remove(command, state, 'IdentityDeleted');
    case 'UnlinkIdentity':
      return remove(command, state, 'IdentityUnlinked');
    case 'SetMembership':
      if (command.level !== null) refuseWhileSuspended(state, command.topLevelId);
      return setMembership(state, command.groupId, command.source, command.level, command.cause, command.now);
    case 'ChangeScimGroupMembers':
      return changeScimGroupMembers(command, state);
    case 'ResyncMemberships':
      return syncMemberships(state, command.sync, command.cause, command.now);
  }
}

/** The event, as happening when the command is decided. */
const at = (now: string) => (event: AccountEvent): Occurred<AccountEvent> => ({ ...event, occurredAt: now });
const fold = (state: AccountState, events: Events) => events.reduce(evolve, state);

function changeScimGroupMembers(c: Command<'ChangeScimGroupMembers'>, state: AccountState): Events {
  const live = (id: string) => {
    const i = state.identities[id];
    if (!i || i.unlinked || i.deleted || i.scope !== c.scope) throw new ResourceNotFound('User', id);
    return i;
  };
  const add = c.add.filter((id) => !live(id).scimGroups.includes(c.groupId));
  const remove = c.remove.filter((id) => live(id).scimGroups.includes(c.groupId));
  const events: AccountEvent[] = [];
  if (add.length > 0) {
    events.push({ type: 'ScimGroupMembersAdded', data: { accountId: state.id, groupId: c.groupId, scope: c.scope, members: add } });
  }
  if (remove.length > 0) {
    events.push({
      type: 'ScimGroupMembersRemoved',
      data: { accountId: state.id, groupId: c.groupId, scope: c.scope, members: remove, cause: c.cause },
    });
  }
  if (events.length === 0) return [];
  const changed = events.map(at(c.now));
  return [...changed, ...syncMemberships(fold(state, changed), c.sync, c.cause, c.now)];
}

function provision(c: Command<'ProvisionUser'>, state: AccountState): Events {
  if (state.exists) throw new UniquenessViolation('account', `Account ${c.accountId} already exists`);
  const identity = newIdentityData(c);
  const provisioned = at(c.now)({
    type: 'UserProvisioned',
    data: {
      accountId: c.accountId,
      username: c.username,
      ...(primaryEmail(c.attributes) ? { email: primaryEmail(c.attributes) } : {}),
      ...(displayNameOf(c.attributes) ? { displayName: displayNameOf(c.attributes) } : {}),
      ...identity,
    },
  });
  const after = evolve(state, provisioned);
  return [provisioned, ...onActivation(after, c.scope, c.active, c.reprovision, 'provisioned', c.now)];
}

/**
 * A new identity as UserProvisioned and IdentityLinked both record it (same keys in the same order:
 * the stored payload is hashed into the audit chain). The NameID defaults to the externalId, else
 * the userName.
 */
function newIdentityData(c: Command<'ProvisionUser'> | Command<'LinkIdentity'>) {
  const userName = requireUserName(c.attributes);
  const externalId = optionalString(c.attributes.externalId);
  return {
    identityId: c.identityId,
    scope: c.scope,
    userName,
    ...(externalId ? { externalId } : {}),
    samlNameId: externalId ?? userName,
    attributes: c.attributes,
    active: c.active,
  };
}

function link(c: Command<'LinkIdentity'>, state: AccountState): Events {
  if (!state.exists) throw new ResourceNotFound('Account', state.id || '(unknown)');
  if (identityInScope(state, c.scope)) {
    throw new UniquenessViolation('account', 'The account already has an identity in this scope');
  }
  const linked = at(c.now)({
    type: 'IdentityLinked',
    data: { accountId: state.id, ...newIdentityData(c), reason: c.reason },
  });
  const after = evolve(state, linked);
  return [linked, ...onActivation(after, c.scope, c.active, c.reprovision, 'linked', c.now)];
}

function update(c: Command<'UpdateIdentity'>, state: AccountState): Events {
  const identity = liveIdentity(state, c.identityId, c.revive === true);
  const stamp = at(c.now);
  const events: Events = [];
  const base = { accountId: state.id, identityId: identity.id, scope: identity.scope };

  const userName = requireUserName(c.attributes);
  if (userName !== identity.userName) {
    events.push(stamp({ type: 'UserNameChanged', data: { ...base, from: identity.userName, to: userName } }));
  }
  const externalId = optionalString(c.attributes.externalId);
  if (externalId !== identity.externalId) {
    // The SAML link value follows externalId whenever one is set; when externalId is
    // cleared it keeps its last value rather than silently switching to userName.
    const samlNameIdTo = externalId ?? identity.samlNameId;
    events.push(
      stamp({
        type: 'ExternIdChanged',
        data: {
          ...base,
          ...(identity.externalId !== undefined ? { from: identity.externalId } : {}),
          ...(externalId !== undefined ? { to: externalId } : {}),
          samlNameIdFrom: identity.samlNameId,
          samlNameIdTo,
        },
      }),
    );
  }
  const changes = diffDocuments(identity.attributes, c.attributes);
  if (changes.length > 0) events.push(stamp({ type: 'UserProfileUpdated', data: { ...base, changes } }));

  const newEmail = primaryEmail(c.attributes);
  if (newEmail !== primaryEmail(identity.attributes) && newEmail !== state.email && newEmail !== undefined) {
    events.push(stamp({ type: 'EmailChanged', data: { accountId: state.id, ...(state.email ? { from: state.email } : {}), to: newEmail } }));
  }

  const wasActive = identity.active && !identity.deleted;
  const active = c.active ?? (c.revive ? true : identity.active);
  if (c.revive && identity.deleted && !active) {
    // Brought back but deactivated: visible again, no access.
    events.push(stamp({ type: 'IdentityReactivated', data: base }), stamp({ type: 'IdentityDeactivated', data: base }));
  } else if (active && !wasActive) {
    events.push(stamp({ type: 'IdentityReactivated', data: base }));
    events.push(...onActivation(fold(state, events), identity.scope, true, c.reprovision, 'reactivated', c.now));
  } else if (!active && wasActive) {
    events.push(stamp({ type: 'IdentityDeactivated', data: base }));
    events.push(...deprovision(state, identity, c.deprovision, 'deactivated', c.now));
  }
  if (c.sync && active !== wasActive) {
    events.push(...syncMemberships(fold(state, events), c.sync, active ? 'scim identity reactivated' : 'scim identity deactivated', c.now));
  }
  return events;
}

function remove(c: Command<'DeleteIdentity'> | Command<'UnlinkIdentity'>, state: AccountState, type: 'IdentityDeleted' | 'IdentityUnlinked'): Events {
  const identity = liveIdentity(state, c.identityId, type === 'IdentityUnlinked');
  const stamp = at(c.now);
  const why = type === 'IdentityDeleted' ? 'deleted' : 'unlinked';
  const base = { accountId: state.id, identityId: identity.id, scope: identity.scope };
  const events: Events = [];
  if (identity.active) events.push(...deprovision(state, identity, c.deprovision, why, c.now));
  events.push(stamp({ type, data: base }));
  // A deleted or unlinked identity leaves its SCIM groups; access they granted is recomputed.
  for (const groupId of identity.scimGroups) {
    events.push(
      stamp({
        type: 'ScimGroupMembersRemoved',
        data: { accountId: state.id, groupId, scope: identity.scope, members: [identity.id], cause: `identity ${why}` },
      }),
    );
  }
  const sync = c.type === 'DeleteIdentity' ? c.sync : undefined;
  if (sync) events.push(...syncMemberships(fold(state, events), sync, `scim identity ${why}`, c.now));
  return events;
}

/** Effects of an identity becoming active: unblock (instance) or default membership (group). */
function onActivation(state: AccountState, scope: ScopeId, active: boolean, ctx: ReprovisionContext, why: string, now: string): Events {
  if (scopeGroupId(scope) === undefined) {
    if (active && state.blocked) {
      return [{ type: 'UserUnblocked', data: { accountId: state.id, reason: 'scim_reprovisioned', scope }, occurredAt: now }];
    }
    if (!active && !state.blocked) {
      return [{ type: 'UserBlocked', data: { accountId: state.id, reason: 'scim_deprovisioned', scope }, occurredAt: now }];
    }
    return [];
  }
  if (!active || !ctx.defaultMembership) return [];
  const { groupId, level } = ctx.defaultMembership;
  return setMembership(state, groupId, 'scim_provisioning', level, `scim identity ${why}`, now);
}

/**
 * Instance scope blocks the account (GitLab's ldap_blocked). Group scope removes every
 * membership the account has inside that top-level group's hierarchy, whatever its source,
 * and refuses to remove the last owner of a group.
 */
function deprovision(state: AccountState, identity: IdentityState, ctx: DeprovisionContext, why: string, now: string): Events {
  if (scopeGroupId(identity.scope) === undefined) {
    return state.blocked
      ? []
      : [{ type: 'UserBlocked', data: { accountId: state.id, reason: 'scim_deprovisioned', scope: identity.scope }, occurredAt: now }];
  }
  const hierarchy = new Set(ctx.hierarchyGroupIds);
  for (const groupId of ctx.soleOwnerGroupIds) {
    if (hierarchy.has(groupId) && state.memberships[groupId]) throw new LastOwnerViolation(groupId);
  }
  const events: Events = [];
  let current = state;
  for (const groupId of Object.keys(state.memberships).sort()) {
    if (!hierarchy.has(groupId)) continue;
    for (const source of Object.keys(current.memberships[groupId] ?? {}) as MembershipSource[]) {
      for (const e of setMembership(current, groupId, source, null, `scim identity ${why}`, now)) {
        events.push(e);
        current = evolve(current, e);
      }
    }
  }
  return events;
}

/**
 * While the account's SCIM identity of a group scope is inactive (or deleted), nothing may
 * grant it access inside that hierarchy — an administrator's or support's grant included:
 * the IdP said this person is out, and only the IdP brings them back. Removing stays allowed.
 */
function refuseWhileSuspended(state: AccountState, topLevelId: string): void {
  const suspended = Object.values(state.identities).some(
    (i) => i.scope === `group:${topLevelId}` && !i.unlinked && (!i.active || i.deleted),
  );
  if (suspended) {
    throw new Conflict(
      'The account is deactivated in this group hierarchy by its SCIM identity; it can be granted membership there only after the identity is active again',
    );
  }
}

function liveIdentity(state: AccountState, identityId: string, allowDeleted: boolean): IdentityState {
  const identity = state.identities[identityId];
  if (!identity || identity.unlinked || (identity.deleted && !allowDeleted)) {
    throw new ResourceNotFound('User', identityId);
  }
  return identity;
}

function requireUserName(doc: AttributeDocument): string {
  const userName = doc.userName;
  if (typeof userName !== 'string' || userName.trim() === '') {
    throw new InvalidCommand('userName is required', 'userName');
  }
  return userName;
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
