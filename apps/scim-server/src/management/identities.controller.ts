import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { IdentityView } from './management.views';
import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GetIdentityQuery, type IdentityWithAccount, ResourceNotFound } from '@app/identity';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One SCIM identity and its account, folded from the write side: exact, never stale. */
@ApiTags('Identities')
@ManagementApi()
@Controller('api/v1/identities')
@UseGuards(ManagementAuthGuard)
export class IdentitiesController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':scimId')
  @ApiOperation({ summary: 'One SCIM identity and its account, read from the write side (never stale)' })
  @ApiParam({ name: 'scimId', format: 'uuid' })
  @ApiOkResponse({ type: IdentityView })
  @ApiErrors(404)
  @Roles('admin', 'support')
  async get(@Param('scimId') scimId: string) {
    if (!UUID.test(scimId)) throw new ResourceNotFound('Identity', scimId);
    const { identity, account, group } = await this.queries.execute<GetIdentityQuery, IdentityWithAccount>(new GetIdentityQuery(scimId));
    return {
      scimId,
      scope: identity.scope === 'application' ? 'application' : `group:${group?.fullPath ?? identity.scope.slice('group:'.length)}`,
      userName: identity.userName,
      externalId: identity.externalId ?? null,
      samlNameId: identity.samlNameId,
      active: identity.active,
      deleted: identity.deleted,
      account: {
        id: account.id,
        username: account.username,
        email: account.email ?? null,
        state: account.blocked ? 'blocked' : 'active',
      },
    };
  }
}
