import { Injectable } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { PreconditionFailed, ResourceNotFound } from '@app/identity';
import { ProjectionRunner, ReadYourWrites, Slicer } from '@app/projections';
import {
  compileFilterToSql,
  type FilterSqlMapping,
  parseFilter,
  compileSortKey,
  memberDisplay,
  resolveAttribute,
} from '@app/scim';
import { CursorKeyring } from '../cursor-keyring';
import { isScan, ScanPool } from '../scan-pool';
import { planPage } from './list-page';
import { GROUPS_JSON_COLUMN, type ScimGroupRow, type ScimGroupsHandle } from '../scim-groups.projection';
import type { ScimUsersHandle } from '../scim-users.projection';
import { GetScimGroupQuery, type GroupMember, GroupsOfUserQuery, ListScimGroupsQuery, ResolveScimGroupVersionQuery } from './scim-group.queries';

export const GROUP_COLUMNS: FilterSqlMapping = {
  jsonColumn: GROUPS_JSON_COLUMN,
  column(path: string) {
    switch (path) {
      case 'displayName':
        return { expr: 'display_name_folded', folded: true, notNull: true };
      case 'externalId':
        return { expr: 'external_id' };
      case 'id':
        return { expr: 'id', notNull: true };
      case 'meta.created':
        return { expr: 'created', notNull: true };
      case 'meta.lastModified':
        return { expr: 'last_modified', notNull: true };
      default:
        return undefined;
    }
  },
};

const resolveGroup = (path: string) => {
  const resolved = resolveAttribute('Group', path);
  // Filtering on members would need the whole member list per group; refuse it clearly.
  return resolved && resolved.attribute.name === 'members' ? undefined : resolved;
};

/** Decorated so subclasses inherit its constructor's injection metadata. */
@Injectable()
abstract class GroupReader {
  constructor(
    protected readonly runner: ProjectionRunner,
    protected readonly ryw: ReadYourWrites,
  ) {}

  protected get groups() {
    return this.runner.handle<ScimGroupsHandle>('scim-groups');
  }

  /** Sliced: a group of 50,000 members must not hold the event loop while it is read. */
  protected async members(group: ScimGroupRow, slicer = new Slicer()): Promise<GroupMember[]> {
    const users = this.runner.handle<ScimUsersHandle>('scim-users');
    const out: GroupMember[] = [];
    for (const m of this.groups.members(group.id)) {
      await slicer.maybeYield();
      const user = users.get(group.scope, m.identityId);
      if (!user) continue;
      const display = memberDisplay(user.attributes as Record<string, unknown>);
      out.push({ value: m.identityId, ...(display !== undefined ? { display } : {}) });
    }
    return out;
  }
}

@QueryHandler(GetScimGroupQuery)
export class GetScimGroupHandler extends GroupReader implements IQueryHandler<GetScimGroupQuery> {
  async execute(q: GetScimGroupQuery) {
    await this.ryw.settle();
    const group = this.groups.get(q.scope, q.id);
    if (!group) return undefined;
    return { group, ...(q.withMembers ? { members: await this.members(group) } : {}) };
  }
}

@QueryHandler(ResolveScimGroupVersionQuery)
export class ResolveScimGroupVersionHandler extends GroupReader implements IQueryHandler<ResolveScimGroupVersionQuery> {
  async execute(q: ResolveScimGroupVersionQuery): Promise<bigint> {
    await this.ryw.settle();
    const group = this.groups.get(q.scope, q.id);
    if (!group) throw new ResourceNotFound('Group', q.id);
    if (q.version.toString() !== group.version) throw new PreconditionFailed();
    return group.revision;
  }
}

@QueryHandler(ListScimGroupsQuery)
export class ListScimGroupsHandler extends GroupReader implements IQueryHandler<ListScimGroupsQuery> {
  constructor(runner: ProjectionRunner, ryw: ReadYourWrites, private readonly scans: ScanPool, private readonly keyring: CursorKeyring) {
    super(runner, ryw);
  }

  async execute(q: ListScimGroupsQuery) {
    const where = q.params.filter !== undefined ? compileFilterToSql(parseFilter(q.params.filter, resolveGroup), GROUP_COLUMNS) : undefined;
    const sort = compileSortKey(q.params.sortBy, q.params.sortOrder, GROUP_COLUMNS, resolveGroup);
    const plan = await planPage(this.keyring, 'Group', q.scope, q.params, where, sort);
    await this.ryw.settle();
    const { query } = plan;
    const { total, rows: fetched } = isScan(where, query.orderBy) ? await this.scans.list(q.scope, () => this.groups, query) : this.groups.list(q.scope, query);
    const { rows, nextCursor } = plan.finish(fetched);
    const slicer = new Slicer();
    const items = [];
    for (const group of rows) items.push({ group, ...(q.withMembers ? { members: await this.members(group, slicer) } : {}) });
    return { total, ...(nextCursor ? { nextCursor } : {}), items };
  }
}

@QueryHandler(GroupsOfUserQuery)
export class GroupsOfUserHandler extends GroupReader implements IQueryHandler<GroupsOfUserQuery> {
  async execute(q: GroupsOfUserQuery) {
    await this.ryw.settle();
    return this.groups.byIds(this.groups.groupsOf(q.identityId)).map((g) => ({ value: g.id, display: g.displayName }));
  }
}
