import { Query } from '@nestjs/cqrs';
import type { ScopeId } from '@app/identity';
import type { ScimUserRow } from '../scim-users.projection';

export type UserWithGroups = ScimUserRow & { readonly groups?: { value: string; display?: string }[] };

export class GetScimUserQuery extends Query<UserWithGroups | undefined> {
  constructor(
    readonly scope: ScopeId,
    readonly id: string,
    /** Look up the read-only `groups` attribute too (skip it when the response leaves it out). */
    readonly withGroups = false,
  ) {
    super();
  }
}

export interface ListParameters {
  readonly filter?: string;
  /** 1-based, values < 1 mean 1. */
  readonly startIndex: number;
  readonly count: number;
  readonly sortBy?: string;
  readonly sortOrder?: string;
}

export class ListScimUsersQuery extends Query<{ total: number; rows: UserWithGroups[] }> {
  constructor(
    readonly scope: ScopeId,
    readonly params: ListParameters,
    readonly withGroups = false,
  ) {
    super();
  }
}
