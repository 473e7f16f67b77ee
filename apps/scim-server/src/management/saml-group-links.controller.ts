import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { CreatedSamlGroupLinkView, SamlGroupLinkView } from './management.views';
import { IsIn, IsString, Length } from 'class-validator';
import { ACCESS_LEVELS, AddSamlGroupLinkCommand, type AccessLevelName, RemoveSamlGroupLinkCommand } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { GroupsHandle } from '@app/read-models';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext } from '../infrastructure/request-context';

export class CreateSamlGroupLinkDto {
  @ApiProperty({ example: 'eng' }) @IsString() @Length(1, 255) samlGroupName!: string;
  @ApiProperty({ example: 'acme/eng' }) @IsString() @Length(1, 1024) groupPath!: string;
  @ApiProperty({ enum: Object.keys(ACCESS_LEVELS) }) @IsIn(Object.keys(ACCESS_LEVELS)) accessLevel!: AccessLevelName;
}

/** SAML group links: a SCIM group named `samlGroupName` grants `accessLevel` in the group. */
@ApiTags('SAML group links')
@ManagementApi()
@Controller('api/v1/saml-group-links')
@UseGuards(ManagementAuthGuard)
export class SamlGroupLinksController {
  constructor(
    private readonly commands: CommandBus,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Link a SAML/SCIM group name to a group and level; members are resynced. Admin.' })
  @ApiCreatedResponse({ type: CreatedSamlGroupLinkView })
  @ApiErrors(400, 404, 409)
  async create(@Body() body: CreateSamlGroupLinkDto, @Req() req: AppRequest) {
    const r = await this.commands.execute(new AddSamlGroupLinkCommand(body.samlGroupName, body.groupPath, body.accessLevel, commandContext(req, 201)));
    await this.ryw.settle();
    return { ...this.render(r.id), resyncedAccounts: r.resynced };
  }

  @Get()
  @ApiOperation({ summary: 'All SAML group links' })
  @ApiOkResponse({ type: [SamlGroupLinkView] })
  @Roles('admin', 'support', 'auditor')
  async list() {
    await this.ryw.settle();
    return this.runner.handle<GroupsHandle>('groups').links().map((l) => this.shape(l));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Remove a SAML group link. Admin.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(404)
  @HttpCode(204)
  async remove(@Param('id') id: string, @Req() req: AppRequest) {
    await this.commands.execute(new RemoveSamlGroupLinkCommand(id, commandContext(req, 204)));
    await this.ryw.settle();
  }

  private render(id: string) {
    const link = this.runner.handle<GroupsHandle>('groups').links().find((l) => l.id === id);
    return link ? this.shape(link) : { id };
  }

  private shape(l: ReturnType<GroupsHandle['links']>[number]) {
    return { id: l.id, samlGroupName: l.samlGroupName, groupPath: l.groupPath, groupId: l.groupId, accessLevel: l.accessLevel };
  }
}
