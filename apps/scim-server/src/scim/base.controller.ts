import { All, Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { type GroupWithMembers, ListScimGroupsQuery, ListScimUsersQuery } from '@app/read-models';
import { renderGroup, listResponse, renderUser, applyAttributeSelection, wantsAttribute, ScimError } from '@app/scim';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { Scim, type ScimRequest } from '../infrastructure/request-context';
import { scimPaths } from './scim-paths';
import { listParameters } from './scim-query';
import { fromRow, searchBody } from './users.controller';

/** `/Me` and the base-level `/.search`. */
@Controller('api/scim/v2')
@UseGuards(ScimAuthGuard)
export class BaseController {
  constructor(
    private readonly queries: QueryBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** There is no end-user authentication here: /Me has no subject, whatever the method. */
  @All([...scimPaths('Me'), ...scimPaths('Me/*')])
  me(): never {
    throw new ScimError(501, undefined, '/Me is not supported: SCIM tokens authenticate a provisioning client, not a user');
  }

  /**
   * RFC 7644 §3.4.3 search at the service provider's root: Users and Groups in one
   * ListResponse, Users first (each type in its own order), paged over the union. A filter
   * naming an attribute only one type has selects from that type alone.
   */
  @Post(scimPaths('.search'))
  @HttpCode(200)
  async search(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const params = listParameters(searchBody(body), this.config.maxResults, true);
    // A cursor walks one resource type's order; the root's union of two is paged by index only.
    if (params.cursor !== undefined) throw ScimError.invalidValue('cursor paging is offered on /Users/.search and /Groups/.search, not at the root', 'cursor');
    const offset = params.startIndex - 1;
    const users = await this.tryType(() => this.queries.execute(new ListScimUsersQuery(scim.scope, params, wantsAttribute('User', params, 'groups'))));
    const userTotal = users?.total ?? 0;
    const groupParams = { ...params, startIndex: Math.max(1, params.startIndex - userTotal), count: Math.max(0, params.count - (users?.rows.length ?? 0)) };
    const groups = await this.tryType(() => this.queries.execute(new ListScimGroupsQuery(scim.scope, groupParams, wantsAttribute('Group', params, 'members'))));
    if (!users && !groups) {
      // Neither type has the filter's attributes: the users' error names it.
      await this.queries.execute(new ListScimUsersQuery(scim.scope, params, false));
    }
    const userResources = (users?.rows ?? []).map((row) => applyAttributeSelection(renderUser(fromRow(row), scim.baseUrl), 'User', params));
    const groupResources =
      offset + userResources.length >= userTotal
        ? (groups?.items ?? []).map((i: GroupWithMembers) => applyAttributeSelection(renderGroup(i.group, scim.baseUrl, i.members), 'Group', params))
        : [];
    return listResponse([...userResources, ...groupResources].slice(0, params.count), userTotal + (groups?.total ?? 0), params.startIndex);
  }

  /** A list of one resource type, or undefined when the filter or sort names an attribute it lacks. */
  private async tryType<T>(run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof ScimError && (err.scimType === 'invalidFilter' || err.scimType === 'invalidValue' || err.scimType === 'invalidPath')) return undefined;
      throw err;
    }
  }
}
