import { Query } from '@nestjs/cqrs';
import type { ScopeId } from '@app/identity';
import type { ScimUserRow } from '../scim-users.projection';

export class GetScimUserQuery extends Query<ScimUserRow | undefined> {
  constructor(
    readonly scope: ScopeId,
    readonly id: string,
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

export class ListScimUsersQuery extends Query<{ total: number; rows: ScimUserRow[] }> {
  constructor(
    readonly scope: ScopeId,
    readonly params: ListParameters,
  ) {
    super();
  }
}
