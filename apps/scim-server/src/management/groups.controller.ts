import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { GroupView, MemberView } from './management.views';
import {
  ACCESS_LEVELS,
  ChangeGroupSettingsCommand,
  CreateGroupCommand,
  IDENTITY_DIRECTORY,
  type IdentityDirectory,
  ResourceNotFound,
  SetGroupMembershipCommand,
} from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { AccountsHandle, GroupRow, GroupsHandle, MemberRow } from '@app/read-models';

const MEMBERS_PAGE = 1000;
const FULL_PATH = { name: 'fullPath', description: 'The group\'s full path, URL-encoded (acme%2Feng)', example: 'acme%2Feng' };
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext } from '../infrastructure/request-context';
import { CreateGroupDto, GroupSettingsDto, SetMembershipDto } from './management.dto';

@ApiTags('Groups')
@ManagementApi()
@Controller('api/v1/groups')
@UseGuards(ManagementAuthGuard)
export class GroupsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a group (top-level, or a subgroup under parentPath). Admin.' })
  @ApiCreatedResponse({ type: GroupView })
  @ApiErrors(400, 404, 409)
  async create(@Body() body: CreateGroupDto, @Req() req: AppRequest) {
    const created = await this.commands.execute(
      new CreateGroupCommand(body.path, body.name, commandContext(req, 201), {
        ...(body.parentPath !== undefined ? { parentPath: body.parentPath } : {}),
        ...(body.defaultMembershipRole ? { defaultMembershipRole: body.defaultMembershipRole } : {}),
        ...(body.verifiedDomains ? { verifiedDomains: body.verifiedDomains } : {}),
      }),
    );
    await this.ryw.settle(created.position);
    return renderGroup(this.groups.byId(created.id) as GroupRow);
  }

  @Get()
  @ApiOperation({ summary: 'All groups' })
  @ApiOkResponse({ type: [GroupView] })
  @Roles('admin', 'support', 'auditor')
  async list() {
    await this.ryw.settle();
    return this.groups.all().map(renderGroup);
  }

  @Get(':fullPath')
  @ApiOperation({ summary: 'One group by its full path' })
  @ApiParam(FULL_PATH)
  @ApiOkResponse({ type: GroupView })
  @ApiErrors(404)
  @Roles('admin', 'support', 'auditor')
  async get(@Param('fullPath') fullPath: string) {
    // Read models fed by a subscription (a shared store) lag the write that preceded this read.
    await this.ryw.settle();
    return renderGroup(await this.group(fullPath));
  }

  @Patch(':fullPath')
  @ApiOperation({ summary: 'Change a group\'s default membership role or verified domains. Admin.' })
  @ApiParam(FULL_PATH)
  @ApiOkResponse({ type: GroupView })
  @ApiErrors(400, 404)
  async changeSettings(@Param('fullPath') fullPath: string, @Body() body: GroupSettingsDto, @Req() req: AppRequest) {
    await this.commands.execute(
      new ChangeGroupSettingsCommand(fullPath, commandContext(req, 200), {
        ...(body.defaultMembershipRole ? { defaultMembershipRole: body.defaultMembershipRole } : {}),
        ...(body.verifiedDomains ? { verifiedDomains: body.verifiedDomains } : {}),
      }),
    );
    await this.ryw.settle();
    return renderGroup(await this.group(fullPath));
  }

  /** Direct memberships of one group, highest level across sources. */
  @Get(':fullPath/members')
  @ApiOperation({ summary: 'Direct members of a group with their highest level, by username' })
  @ApiParam(FULL_PATH)
  @ApiOkResponse({ type: [MemberView] })
  @ApiErrors(404)
  @Roles('admin', 'support', 'auditor')
  async members(@Param('fullPath') fullPath: string) {
    await this.ryw.settle();
    const group = await this.group(fullPath);
    // Read in keyset pages with a turn of the event loop between them: a group of 50,000
    // members would otherwise hold every other request for the whole read.
    const out: MemberRow[] = [];
    for (let after = ''; ; ) {
      const page = this.accounts.membersPage(group.id, after, MEMBERS_PAGE);
      out.push(...page);
      if (page.length < MEMBERS_PAGE) break;
      after = page[page.length - 1].accountId;
      await new Promise((r) => setImmediate(r));
    }
    return out.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : a.accountId < b.accountId ? -1 : 1));
  }

  @Put(':fullPath/members/:accountId')
  @ApiOperation({ summary: 'Set an account\'s administrator-granted level in a group. Admin.' })
  @ApiParam(FULL_PATH)
  @ApiParam({ name: 'accountId', format: 'uuid' })
  @ApiOkResponse({ type: MemberView })
  @ApiErrors(400, 404, 422)
  async setMember(
    @Param('fullPath') fullPath: string,
    @Param('accountId') accountId: string,
    @Body() body: SetMembershipDto,
    @Req() req: AppRequest,
  ) {
    const group = await this.group(fullPath);
    await this.commands.execute(new SetGroupMembershipCommand(accountId, group, ACCESS_LEVELS[body.accessLevel], commandContext(req, 200)));
    await this.ryw.settle();
    return this.accounts.members(group.id).find((m) => m.accountId === accountId);
  }

  @Delete(':fullPath/members/:accountId')
  @ApiOperation({ summary: 'Remove the administrator-granted membership. Admin.' })
  @ApiParam(FULL_PATH)
  @ApiParam({ name: 'accountId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(404, 422)
  @HttpCode(204)
  async removeMember(@Param('fullPath') fullPath: string, @Param('accountId') accountId: string, @Req() req: AppRequest) {
    const group = await this.group(fullPath);
    await this.commands.execute(new SetGroupMembershipCommand(accountId, group, null, commandContext(req, 204)));
  }

  private async group(fullPath: string): Promise<GroupRow> {
    const group = await this.directory.groupByPath(fullPath);
    if (!group) throw new ResourceNotFound('Group', fullPath);
    return group as GroupRow;
  }

  private get groups() {
    return this.runner.handle<GroupsHandle>('groups');
  }
  private get accounts() {
    return this.runner.handle<AccountsHandle>('accounts');
  }
}

export function renderGroup(g: GroupRow) {
  return {
    id: g.id,
    path: g.path,
    name: g.name,
    fullPath: g.fullPath,
    parentId: g.parentId ?? null,
    defaultMembershipRole: g.defaultMembershipRole,
    verifiedDomains: g.verifiedDomains,
    createdAt: g.created,
  };
}
