import { Query } from '@nestjs/cqrs';
import type { ScopeId } from '@app/identity';
import type { ScimGroupRow } from '../scim-groups.projection';
import type { ListParameters } from './scim-user.queries';

export interface GroupMember {
  readonly value: string;
  readonly display?: string;
}

export interface GroupWithMembers {
  readonly group: ScimGroupRow;
  /** Undefined when members were not asked for (excludedAttributes=members keeps it cheap). */
  readonly members?: GroupMember[];
}

export class GetScimGroupQuery extends Query<GroupWithMembers | undefined> {
  constructor(
    readonly scope: ScopeId,
    readonly id: string,
    readonly withMembers: boolean,
  ) {
    super();
  }
}

/**
 * What an `If-Match` version of a SCIM group stands for on the write side. A group's version
 * moves with its members, whose events live in the members' account streams, so it is not the
 * group stream's revision: this resolves it to that revision (handed to the writer, which refuses
 * a change of the group itself since), or refuses with 412 when it is not the current version.
 */
export class ResolveScimGroupVersionQuery extends Query<bigint> {
  constructor(
    readonly scope: ScopeId,
    readonly id: string,
    /** The entity tag's version, as the client sent it. */
    readonly version: bigint,
  ) {
    super();
  }
}

export class ListScimGroupsQuery extends Query<{ total: number; nextCursor?: string; items: GroupWithMembers[] }> {
  constructor(
    readonly scope: ScopeId,
    readonly params: ListParameters,
    readonly withMembers: boolean,
  ) {
    super();
  }
}

/** The SCIM groups an identity belongs to, for the User resource's `groups` attribute. */
export class GroupsOfUserQuery extends Query<GroupMember[]> {
  constructor(readonly identityId: string) {
    super();
  }
}
