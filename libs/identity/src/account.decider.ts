import type { AccessLevel } from './access-level';
import { applyChanges, diffDocuments, displayNameOf, primaryEmail } from './document';
import { Conflict, InvalidCommand, LastOwnerViolation, ResourceNotFound, UniquenessViolation } from './errors';
import type { AccountEvent, AccountEventMap, AttributeDocument, MembershipSource } from './events';
import { type SyncContext, syncMemberships } from './membership-sync';
import { type ScopeId, scopeGroupId } from './scope';

/**
 * The account decider: a person, every SCIM identity they have in any scope, and their
 * group memberships, in one stream. One stream per person makes the effects of one SCIM
 * call (identity deactivated + account blocked, or + memberships removed) atomic on every
 * store, and a person's timeline and past state are a read and a fold of one stream.
 * Pure: no I/O, no clock (times come in with the events), no randomness (ids come in with
 * the commands).
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

// ---------------------------------------------------------------------------------------
// evolve

export function evolve(state: AccountState, event: AccountEvent, occurredAt: string): AccountState {
  switch (event.type) {
    case 'UserProvisioned': {
      const d = event.data;
      return {
        ...state,
        exists: true,
        id: d.accountId,
        username: d.username,
        email: d.email,
        displayName: d.displayName,
        created: occurredAt,
        identities: { ...state.identities, [d.identityId]: newIdentity(d, occurredAt) },
      };
    }
    case 'IdentityLinked': {
      const d = event.data;
      return { ...state, identities: { ...state.identities, [d.identityId]: newIdentity(d, occurredAt) } };
    }
    case 'UserProfileUpdated':
      return withIdentity(state, event.data.identityId, occurredAt, (i) => ({
        attributes: applyChanges(i.attributes, event.data.changes),
      }));
    case 'UserNameChanged':
      return withIdentity(state, event.data.identityId, occurredAt, (i) => ({
        userName: event.data.to,
        attributes: { ...i.attributes, userName: event.data.to },
      }));
    case 'ExternIdChanged':
      return withIdentity(state, event.data.identityId, occurredAt, (i) => {
        const attributes: Record<string, unknown> = { ...i.attributes };
        if (event.data.to === undefined) delete attributes.externalId;
        else attributes.externalId = event.data.to;
        return { externalId: event.data.to, samlNameId: event.data.samlNameIdTo, attributes };
      });
    case 'EmailChanged':
      return { ...state, email: event.data.to };
    case 'IdentityDeactivated':
      return withIdentity(state, event.data.identityId, occurredAt, () => ({ active: false }));
    case 'IdentityReactivated':
      return withIdentity(state, event.data.identityId, occurredAt, () => ({ active: true, deleted: false }));
    case 'IdentityDeleted':
      return withIdentity(state, event.data.identityId, occurredAt, () => ({ active: false, deleted: true }));
    case 'IdentityUnlinked':
      return withIdentity(state, event.data.identityId, occurredAt, () => ({ active: false, unlinked: true }));
    case 'ScimGroupMembersAdded':
      return event.data.members.reduce(
        (s, id) =>
          withIdentity(s, id, occurredAt, (i) => ({
            scimGroups: i.scimGroups.includes(event.data.groupId) ? i.scimGroups : [...i.scimGroups, event.data.groupId],
          }), false),
        state,
      );
    case 'ScimGroupMembersRemoved':
      return event.data.members.reduce(
        (s, id) => withIdentity(s, id, occurredAt, (i) => ({ scimGroups: i.scimGroups.filter((g) => g !== event.data.groupId) }), false),
        state,
      );
    case 'UserBlocked':
      return { ...state, blocked: true };
    case 'UserUnblocked':
      return { ...state, blocked: false };
    case 'GroupMembershipChanged': {
      const d = event.data;
      const sources: Record<string, AccessLevel> = { ...(state.memberships[d.groupId] ?? {}) };
      if (d.to === null) delete sources[d.source];
      else sources[d.source] = d.to;
      const memberships: Record<string, MembershipSources> = { ...state.memberships };
      if (Object.keys(sources).length === 0) delete memberships[d.groupId];
      else memberships[d.groupId] = sources;
      return { ...state, memberships };
    }
  }
}

function newIdentity(
  d: AccountEventMap['UserProvisioned'] | AccountEventMap['IdentityLinked'],
  at: string,
): IdentityState {
  return {
    id: d.identityId,
    scope: d.scope,
    userName: d.userName,
    externalId: d.externalId,
    samlNameId: d.samlNameId,
    attributes: d.attributes,
    active: d.active,
    deleted: false,
    unlinked: false,
    created: at,
    lastModified: at,
    scimGroups: [],
  };
}

function withIdentity(
  state: AccountState,
  identityId: string,
  at: string,
  update: (i: IdentityState) => Partial<IdentityState>,
  touch = true,
): AccountState {
  const current = state.identities[identityId];
  if (!current) return state;
  const next = { ...current, ...update(current) };
  return {
    ...state,
    identities: { ...state.identities, [identityId]: touch ? { ...next, lastModified: at } : next },
  };
}

// ---------------------------------------------------------------------------------------
// decide

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

export type AccountCommand =
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
      readonly type: 'SetMembership';
      readonly groupId: string;
      /** The top-level group of `groupId`'s hierarchy: a grant there waits for an inactive SCIM identity. */
      readonly topLevelId: string;
      readonly source: MembershipSource;
      readonly level: AccessLevel | null;
      readonly cause: string;
    };

export function decide(command: AccountCommand, state: AccountState): AccountEvent[] {
  switch (command.type) {
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
      return setMembership(state, command.groupId, command.source, command.level, command.cause);
    case 'ChangeScimGroupMembers':
      return changeScimGroupMembers(command, state);
    case 'ResyncMemberships':
      return syncMemberships(state, command.sync, command.cause);
  }
}

function changeScimGroupMembers(c: Extract<AccountCommand, { type: 'ChangeScimGroupMembers' }>, state: AccountState): AccountEvent[] {
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
  const after = events.reduce((s, e) => evolve(s, e, ''), state);
  return [...events, ...syncMemberships(after, c.sync, c.cause)];
}

function provision(c: Extract<AccountCommand, { type: 'ProvisionUser' }>, state: AccountState): AccountEvent[] {
  if (state.exists) throw new UniquenessViolation('account', `Account ${c.accountId} already exists`);
  const userName = requireUserName(c.attributes);
  const externalId = optionalString(c.attributes.externalId);
  const provisioned: AccountEvent = {
    type: 'UserProvisioned',
    data: {
      accountId: c.accountId,
      username: c.username,
      ...(primaryEmail(c.attributes) ? { email: primaryEmail(c.attributes) } : {}),
      ...(displayNameOf(c.attributes) ? { displayName: displayNameOf(c.attributes) } : {}),
      identityId: c.identityId,
      scope: c.scope,
      userName,
      ...(externalId ? { externalId } : {}),
      samlNameId: externalId ?? userName,
      attributes: c.attributes,
      active: c.active,
    },
  };
  const after = evolve(state, provisioned, '');
  return [provisioned, ...onActivation(after, c.scope, c.active, c.reprovision, 'provisioned')];
}

function link(c: Extract<AccountCommand, { type: 'LinkIdentity' }>, state: AccountState): AccountEvent[] {
  if (!state.exists) throw new ResourceNotFound('Account', state.id || '(unknown)');
  if (identityInScope(state, c.scope)) {
    throw new UniquenessViolation('account', 'The account already has an identity in this scope');
  }
  const userName = requireUserName(c.attributes);
  const externalId = optionalString(c.attributes.externalId);
  const linked: AccountEvent = {
    type: 'IdentityLinked',
    data: {
      accountId: state.id,
      identityId: c.identityId,
      scope: c.scope,
      userName,
      ...(externalId ? { externalId } : {}),
      samlNameId: externalId ?? userName,
      attributes: c.attributes,
      active: c.active,
      reason: c.reason,
    },
  };
  const after = evolve(state, linked, '');
  return [linked, ...onActivation(after, c.scope, c.active, c.reprovision, 'linked')];
}

function update(c: Extract<AccountCommand, { type: 'UpdateIdentity' }>, state: AccountState): AccountEvent[] {
  const identity = liveIdentity(state, c.identityId, c.revive === true);
  const events: AccountEvent[] = [];
  const base = { accountId: state.id, identityId: identity.id, scope: identity.scope };

  const userName = requireUserName(c.attributes);
  if (userName !== identity.userName) {
    events.push({ type: 'UserNameChanged', data: { ...base, from: identity.userName, to: userName } });
  }
  const externalId = optionalString(c.attributes.externalId);
  if (externalId !== identity.externalId) {
    // The SAML link value follows externalId whenever one is set; when externalId is
    // cleared it keeps its last value rather than silently switching to userName.
    const samlNameIdTo = externalId ?? identity.samlNameId;
    events.push({
      type: 'ExternIdChanged',
      data: {
        ...base,
        ...(identity.externalId !== undefined ? { from: identity.externalId } : {}),
        ...(externalId !== undefined ? { to: externalId } : {}),
        samlNameIdFrom: identity.samlNameId,
        samlNameIdTo,
      },
    });
  }
  const changes = diffDocuments(identity.attributes, c.attributes);
  if (changes.length > 0) events.push({ type: 'UserProfileUpdated', data: { ...base, changes } });

  const newEmail = primaryEmail(c.attributes);
  if (newEmail !== primaryEmail(identity.attributes) && newEmail !== state.email && newEmail !== undefined) {
    events.push({ type: 'EmailChanged', data: { accountId: state.id, ...(state.email ? { from: state.email } : {}), to: newEmail } });
  }

  const wasActive = identity.active && !identity.deleted;
  const active = c.active ?? (c.revive ? true : identity.active);
  if (c.revive && identity.deleted && !active) {
    // Brought back but deactivated: visible again, no access.
    events.push({ type: 'IdentityReactivated', data: base }, { type: 'IdentityDeactivated', data: base });
  } else if (active && !wasActive) {
    events.push({ type: 'IdentityReactivated', data: base });
    const after = events.reduce((s, e) => evolve(s, e, ''), state);
    events.push(...onActivation(after, identity.scope, true, c.reprovision, 'reactivated'));
  } else if (!active && wasActive) {
    events.push({ type: 'IdentityDeactivated', data: base });
    events.push(...deprovision(state, identity, c.deprovision, 'deactivated'));
  }
  if (c.sync && active !== wasActive) {
    const after = events.reduce((s, e) => evolve(s, e, ''), state);
    events.push(...syncMemberships(after, c.sync, active ? 'scim identity reactivated' : 'scim identity deactivated'));
  }
  return events;
}

function remove(
  c: { identityId: string; deprovision: DeprovisionContext; sync?: SyncContext },
  state: AccountState,
  type: 'IdentityDeleted' | 'IdentityUnlinked',
): AccountEvent[] {
  const identity = liveIdentity(state, c.identityId, type === 'IdentityUnlinked');
  const base = { accountId: state.id, identityId: identity.id, scope: identity.scope };
  const events: AccountEvent[] = [];
  if (identity.active) events.push(...deprovision(state, identity, c.deprovision, type === 'IdentityDeleted' ? 'deleted' : 'unlinked'));
  events.push({ type, data: base });
  if (identity.scimGroups.length > 0) {
    // A deleted or unlinked identity leaves its SCIM groups; access they granted is recomputed.
    for (const groupId of identity.scimGroups) {
      events.push({
        type: 'ScimGroupMembersRemoved',
        data: { accountId: state.id, groupId, scope: identity.scope, members: [identity.id], cause: `identity ${type === 'IdentityDeleted' ? 'deleted' : 'unlinked'}` },
      });
    }
  }
  if (c.sync) {
    const after = events.reduce((s, e) => evolve(s, e, ''), state);
    events.push(...syncMemberships(after, c.sync, `scim identity ${type === 'IdentityDeleted' ? 'deleted' : 'unlinked'}`));
  }
  return events;
}

/** Effects of an identity becoming active: unblock (instance) or default membership (group). */
function onActivation(
  state: AccountState,
  scope: ScopeId,
  active: boolean,
  ctx: ReprovisionContext,
  why: string,
): AccountEvent[] {
  if (scopeGroupId(scope) === undefined) {
    if (active && state.blocked) {
      return [{ type: 'UserUnblocked', data: { accountId: state.id, reason: 'scim_reprovisioned', scope } }];
    }
    if (!active && !state.blocked) {
      return [{ type: 'UserBlocked', data: { accountId: state.id, reason: 'scim_deprovisioned', scope } }];
    }
    return [];
  }
  if (!active || !ctx.defaultMembership) return [];
  const { groupId, level } = ctx.defaultMembership;
  return setMembership(state, groupId, 'scim_provisioning', level, `scim identity ${why}`);
}

/**
 * Instance scope blocks the account (GitLab's ldap_blocked). Group scope removes every
 * membership the account has inside that top-level group's hierarchy, whatever its source,
 * and refuses to remove the last owner of a group.
 */
function deprovision(state: AccountState, identity: IdentityState, ctx: DeprovisionContext, why: string): AccountEvent[] {
  if (scopeGroupId(identity.scope) === undefined) {
    return state.blocked
      ? []
      : [{ type: 'UserBlocked', data: { accountId: state.id, reason: 'scim_deprovisioned', scope: identity.scope } }];
  }
  const hierarchy = new Set(ctx.hierarchyGroupIds);
  for (const groupId of ctx.soleOwnerGroupIds) {
    if (hierarchy.has(groupId) && state.memberships[groupId]) throw new LastOwnerViolation(groupId);
  }
  const events: AccountEvent[] = [];
  let current = state;
  for (const groupId of Object.keys(state.memberships).sort()) {
    if (!hierarchy.has(groupId)) continue;
    for (const source of Object.keys(current.memberships[groupId] ?? {}) as MembershipSource[]) {
      for (const e of setMembership(current, groupId, source, null, `scim identity ${why}`)) {
        events.push(e);
        current = evolve(current, e, '');
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

export function setMembership(
  state: AccountState,
  groupId: string,
  source: MembershipSource,
  level: AccessLevel | null,
  cause: string,
): AccountEvent[] {
  const sources = state.memberships[groupId];
  const from = sources?.[source] ?? null;
  if (from === level) return [];
  const next: MembershipSources = { ...(sources ?? {}) };
  if (level === null) delete next[source];
  else next[source] = level;
  return [
    {
      type: 'GroupMembershipChanged',
      data: {
        accountId: state.id,
        groupId,
        source,
        from,
        to: level,
        effectiveFrom: effectiveLevel(sources),
        effectiveTo: effectiveLevel(next),
        cause,
      },
    },
  ];
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
