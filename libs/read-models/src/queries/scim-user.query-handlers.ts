import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { compileFilterToSql, compileSortKey, type FilterSqlMapping, parseFilter, resolveAttribute } from '@app/scim';
import { CursorKeyring } from '../cursor-keyring';
import { isScan, ScanPool } from '../scan-pool';
import type { ScimGroupsHandle } from '../scim-groups.projection';
import { type ScimUserRow, type ScimUsersHandle, USERS_JSON_COLUMN } from '../scim-users.projection';
import { planPage } from './list-page';
import { GetScimUserQuery, ListScimUsersQuery, type UserWithGroups } from './scim-user.queries';

/** Indexed columns that stand in for JSON look-ups of the hottest attributes. */
export const USER_COLUMNS: FilterSqlMapping = {
  jsonColumn: USERS_JSON_COLUMN,
  column(path: string) {
    switch (path) {
      case 'userName':
        return { expr: 'user_name_folded', folded: true, notNull: true };
      case 'externalId':
        return { expr: 'external_id_folded', folded: true };
      case 'id':
        return { expr: 'id', notNull: true };
      case 'meta.created':
        return { expr: 'created', notNull: true };
      case 'meta.lastModified':
        return { expr: 'last_modified', notNull: true };
      case 'active':
        return { expr: 'active', type: 'boolean' };
      default:
        return undefined;
    }
  },
};

const resolveUser = (path: string) => resolveAttribute('User', path);

function withGroups(runner: ProjectionRunner, row: ScimUserRow, ids?: string[]): UserWithGroups {
  const groups = runner.handle<ScimGroupsHandle>('scim-groups');
  const groupIds = ids ?? groups.groupsOf(row.id);
  if (groupIds.length === 0) return row;
  return { ...row, groups: groups.byIds(groupIds).map((g) => ({ value: g.id, display: g.displayName })) };
}

/** A page of users with their groups: one membership query for the page, not one per user. */
function pageWithGroups(runner: ProjectionRunner, rows: readonly ScimUserRow[]): UserWithGroups[] {
  const byIdentity = runner.handle<ScimGroupsHandle>('scim-groups').groupsOfMany(rows.map((r) => r.id));
  return rows.map((r) => withGroups(runner, r, byIdentity.get(r.id) ?? []));
}

@QueryHandler(GetScimUserQuery)
export class GetScimUserHandler implements IQueryHandler<GetScimUserQuery> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  async execute(q: GetScimUserQuery) {
    await this.ryw.settle();
    const users = this.runner.handle<ScimUsersHandle>('scim-users');
    if (!q.withGroups) return users.get(q.scope, q.id);
    const found = users.getWithGroupIds(q.scope, q.id, this.runner.handle<ScimGroupsHandle>('scim-groups').membersTable);
    if (!found) return undefined;
    const { groupIds, ...row } = found;
    return withGroups(this.runner, row, groupIds);
  }
}

@QueryHandler(ListScimUsersQuery)
export class ListScimUsersHandler implements IQueryHandler<ListScimUsersQuery> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly scans: ScanPool,
    private readonly keyring: CursorKeyring,
  ) {}

  async execute(q: ListScimUsersQuery) {
    // Parse, compile and check the cursor before waiting: bad input is refused at once.
    const where = q.params.filter !== undefined ? compileFilterToSql(parseFilter(q.params.filter, resolveUser), USER_COLUMNS) : undefined;
    const sort = compileSortKey(q.params.sortBy, q.params.sortOrder, USER_COLUMNS, resolveUser);
    const plan = await planPage(this.keyring, 'User', q.scope, q.params, where, sort);
    await this.ryw.settle();
    // A scan of the whole scope runs on a scan worker; indexed look-ups stay here (microseconds).
    const result = isScan(where, plan.query.orderBy)
      ? await this.scans.list(q.scope, () => this.runner.handle<ScimUsersHandle>('scim-users'), plan.query)
      : this.runner.handle<ScimUsersHandle>('scim-users').list(q.scope, plan.query);
    const { rows, nextCursor } = plan.finish(result.rows);
    return { total: result.total, ...(nextCursor ? { nextCursor } : {}), rows: q.withGroups ? pageWithGroups(this.runner, rows) : rows };
  }
}
