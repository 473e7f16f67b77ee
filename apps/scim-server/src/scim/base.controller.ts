import { Body, Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { ListScimUsersQuery } from '@app/read-models/queries/scim-user.queries';
import { listResponse, renderUser } from '@app/scim/resources/user.resource';
import { applyAttributeSelection } from '@app/scim/schema/select-attributes';
import { ScimError } from '@app/scim/scim-error';
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

  /** There is no end-user authentication here: /Me has no subject. */
  @Get(scimPaths('Me'))
  me(): never {
    throw new ScimError(501, undefined, '/Me is not supported: SCIM tokens authenticate a provisioning client, not a user');
  }

  /** RFC 7644 §3.4.3 search at the service provider's root, over the User resources. */
  @Post(scimPaths('.search'))
  @HttpCode(200)
  async search(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const params = listParameters(searchBody(body), this.config.maxResults, true);
    const { total, rows } = await this.queries.execute(new ListScimUsersQuery(scim.scope, params, true));
    return listResponse(
      rows.map((row) => applyAttributeSelection(renderUser(fromRow(row), scim.baseUrl), 'User', params)),
      total,
      params.startIndex,
    );
  }
}
