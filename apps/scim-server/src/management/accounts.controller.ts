import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { AccountMembershipsView } from './management.views';
import { ResourceNotFound } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { AccountsHandle, GroupsHandle } from '@app/read-models';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';

/** An account and the groups it is a member of (effective level and its source). */
@ApiTags('Accounts')
@ManagementApi()
@Controller('api/v1/accounts')
@UseGuards(ManagementAuthGuard)
export class AccountsController {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  @Get(':accountId/memberships')
  @ApiOperation({ summary: 'An account and its group memberships (effective level, source, group path)' })
  @ApiParam({ name: 'accountId', format: 'uuid' })
  @ApiOkResponse({ type: AccountMembershipsView })
  @ApiErrors(404)
  @Roles('admin', 'support', 'auditor')
  async memberships(@Param('accountId') accountId: string) {
    await this.ryw.settle();
    const accounts = this.runner.handle<AccountsHandle>('accounts');
    const account = accounts.byId(accountId);
    if (!account) throw new ResourceNotFound('Account', accountId);
    const groups = this.runner.handle<GroupsHandle>('groups');
    return {
      account,
      memberships: accounts.membershipsOf(accountId).map((m) => ({ ...m, groupPath: groups.byId(m.groupId)?.fullPath ?? null })),
    };
  }
}
