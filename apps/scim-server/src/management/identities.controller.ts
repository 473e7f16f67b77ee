import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { IdentityView } from './management.views';
import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { AccountWriter, IDENTITY_DIRECTORY, type IdentityDirectory, ResourceNotFound, scopeGroupId } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { ScimUsersHandle } from '@app/read-models';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One SCIM identity and its account, folded from the write side: exact, never stale. */
@ApiTags('Identities')
@ManagementApi()
@Controller('api/v1/identities')
@UseGuards(ManagementAuthGuard)
export class IdentitiesController {
  constructor(
    private readonly writer: AccountWriter,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  @Get(':scimId')
  @ApiOperation({ summary: 'One SCIM identity and its account, read from the write side (never stale)' })
  @ApiParam({ name: 'scimId', format: 'uuid' })
  @ApiOkResponse({ type: IdentityView })
  @ApiErrors(404)
  @Roles('admin', 'support')
  async get(@Param('scimId') scimId: string) {
    if (!UUID.test(scimId)) throw new ResourceNotFound('Identity', scimId);
    await this.ryw.settle();
    const found = this.runner.handle<ScimUsersHandle>('scim-users').findIdentity(scimId);
    if (!found) throw new ResourceNotFound('Identity', scimId);
    const { state } = await this.writer.repository.load(found.accountId);
    const identity = state.identities[scimId];
    if (!identity) throw new ResourceNotFound('Identity', scimId);
    const groupId = scopeGroupId(identity.scope);
    const group = groupId ? await this.directory.group(groupId) : undefined;
    return {
      scimId,
      scope: groupId ? `group:${group?.fullPath ?? groupId}` : 'application',
      userName: identity.userName,
      externalId: identity.externalId ?? null,
      samlNameId: identity.samlNameId,
      active: identity.active,
      deleted: identity.deleted,
      account: {
        id: state.id,
        username: state.username,
        email: state.email ?? null,
        state: state.blocked ? 'blocked' : 'active',
      },
    };
  }
}
