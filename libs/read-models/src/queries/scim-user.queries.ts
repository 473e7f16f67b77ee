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
  /** Part of the query a cursor is bound to (the page renders them; the read model does not). */
  readonly attributes?: string;
  readonly excludedAttributes?: string;
  /**
   * RFC 9865 cursor paging when present (`''`: the first page); index paging (`startIndex`)
   * when absent.
   */
  readonly cursor?: string;
}

/** A page: its rows, the total of matches, and on a cursor page that is not the last, the next cursor. */
export interface ListPage<Row> {
  readonly total: number;
  readonly nextCursor?: string;
  readonly rows: Row[];
}

export class ListScimUsersQuery extends Query<ListPage<UserWithGroups>> {
  constructor(
    readonly scope: ScopeId,
    readonly params: ListParameters,
    readonly withGroups = false,
  ) {
    super();
  }
}
