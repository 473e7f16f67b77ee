import type { AccessLevel } from './access-level';
import type { AccountState, IdentityState, MembershipSources } from './account.state';
import { applyChanges } from './document';
import type { Occurred } from './event-family';
import type { AccountEvent, AccountEventMap } from './events';

/** An account event about exactly one identity (the one `data.identityId` names). */
export type IdentityEvent = Occurred<Extract<AccountEvent, { data: { identityId: string } }>>;

/** The lifecycle events: they change an identity's flags and nothing else it holds. */
export type IdentityStatusEvent = Extract<
  AccountEvent,
  { type: 'IdentityDeactivated' | 'IdentityReactivated' | 'IdentityDeleted' | 'IdentityUnlinked' }
>;

export type IdentityFlags = Pick<IdentityState, 'active' | 'deleted' | 'unlinked'>;

/**
 * What a lifecycle event does to an identity's flags, whatever its other fields hold; the flags
 * it leaves out keep their value (a deactivation does not undelete). Exported so a read model can
 * apply it in place without reading the identity first.
 */
export function identityStatusChange(event: IdentityStatusEvent): Partial<IdentityFlags> {
  switch (event.type) {
    case 'IdentityDeactivated':
      return { active: false };
    case 'IdentityReactivated':
      return { active: true, deleted: false };
    case 'IdentityDeleted':
      return { active: false, deleted: true };
    case 'IdentityUnlinked':
      return { active: false, unlinked: true };
  }
}

/**
 * What an event about one identity does to it: the single definition of a SCIM identity's
 * fold. The account's `evolve` applies it, and so does the SCIM Users read model, so that
 * what SCIM reads serve is what the decider decides with. `identity` is the one the event
 * names, as it was before (undefined until it is provisioned or linked); an event about an
 * identity that never existed changes nothing.
 */
export function evolveIdentity(identity: IdentityState | undefined, event: IdentityEvent): IdentityState | undefined {
  if (event.type === 'UserProvisioned' || event.type === 'IdentityLinked') return newIdentity(event.data, event.occurredAt);
  if (!identity) return undefined;
  const touched = (change: Partial<IdentityState>): IdentityState => ({ ...identity, ...change, lastModified: event.occurredAt });
  switch (event.type) {
    case 'UserProfileUpdated':
      return touched({ attributes: applyChanges(identity.attributes, event.data.changes) });
    case 'UserNameChanged':
      return touched({ userName: event.data.to, attributes: { ...identity.attributes, userName: event.data.to } });
    case 'ExternIdChanged': {
      const attributes: Record<string, unknown> = { ...identity.attributes };
      if (event.data.to === undefined) delete attributes.externalId;
      else attributes.externalId = event.data.to;
      return touched({ externalId: event.data.to, samlNameId: event.data.samlNameIdTo, attributes });
    }
    case 'IdentityDeactivated':
    case 'IdentityReactivated':
    case 'IdentityDeleted':
    case 'IdentityUnlinked':
      return touched(identityStatusChange(event));
  }
}

/** What an event does to the account. Pure; the time is the one the event carries. */
export function evolve(state: AccountState, event: Occurred<AccountEvent>): AccountState {
  switch (event.type) {
    case 'UserProvisioned': {
      const d = event.data;
      return applyToIdentity(
        {
          ...state,
          exists: true,
          id: d.accountId,
          username: d.username,
          email: d.email,
          displayName: d.displayName,
          created: event.occurredAt,
        },
        event,
      );
    }
    case 'IdentityLinked':
    case 'UserProfileUpdated':
    case 'UserNameChanged':
    case 'ExternIdChanged':
    case 'IdentityDeactivated':
    case 'IdentityReactivated':
    case 'IdentityDeleted':
    case 'IdentityUnlinked':
      return applyToIdentity(state, event);
    case 'EmailChanged':
      return { ...state, email: event.data.to };
    case 'ScimGroupMembersAdded': {
      const { groupId } = event.data;
      // Membership lives on the identity but is not a change to the SCIM resource: no lastModified.
      return withIdentities(state, event.data.members, (i) =>
        i.scimGroups.includes(groupId) ? i : { ...i, scimGroups: [...i.scimGroups, groupId] },
      );
    }
    case 'ScimGroupMembersRemoved': {
      const { groupId } = event.data;
      return withIdentities(state, event.data.members, (i) => ({ ...i, scimGroups: i.scimGroups.filter((g) => g !== groupId) }));
    }
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
    case 'AccountErased':
      // Released: the account holds nothing any more, so the commit's releases are the
      // difference (account-writer.ts). Kept: the identities stay and so do their reservations.
      return event.data.uniqueValues === 'released'
        ? { ...state, erased: true, username: '', email: undefined, displayName: undefined, identities: {}, memberships: {} }
        : { ...state, erased: true };
  }
}

function applyToIdentity(state: AccountState, event: IdentityEvent): AccountState {
  const id = event.data.identityId;
  const next = evolveIdentity(state.identities[id], event);
  return next ? { ...state, identities: { ...state.identities, [id]: next } } : state;
}

function withIdentities(state: AccountState, ids: readonly string[], update: (i: IdentityState) => IdentityState): AccountState {
  let identities = state.identities;
  for (const id of ids) {
    const current = identities[id];
    if (current) identities = { ...identities, [id]: update(current) };
  }
  return identities === state.identities ? state : { ...state, identities };
}

function newIdentity(d: AccountEventMap['UserProvisioned'] | AccountEventMap['IdentityLinked'], at: string): IdentityState {
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
