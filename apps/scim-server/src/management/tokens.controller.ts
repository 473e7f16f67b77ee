import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { IssuedManagementTokenView, IssuedScimTokenView, TokenView } from './management.views';
import {
  IssueManagementTokenCommand,
  IssueScimTokenCommand,
  RevokeTokenCommand,
  type TokenRow,
  type TokensHandle,
} from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { groupScope, IDENTITY_DIRECTORY, type IdentityDirectory, InvalidCommand, ResourceNotFound } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { ManagementAuthGuard } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext } from '../infrastructure/request-context';
import { CreateManagementTokenDto, CreateScimTokenDto } from './management.dto';

/** SCIM tokens per scope and management tokens per role. Admin only. */
@ApiTags('Tokens')
@ManagementApi()
@Controller('api/v1')
@UseGuards(ManagementAuthGuard)
export class TokensController {
  constructor(
    private readonly commands: CommandBus,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('scim/tokens')
  @ApiOperation({ summary: 'Issue a SCIM token for the application or a top-level group; the secret is shown once. Admin.' })
  @ApiCreatedResponse({ type: IssuedScimTokenView })
  @ApiErrors(400, 404)
  async createScimToken(@Body() body: CreateScimTokenDto, @Req() req: AppRequest) {
    let scope = 'application';
    let url = `${this.config.publicUrl}/api/scim/v2/application`;
    if (body.scope === 'group') {
      if (!body.groupPath) throw new InvalidCommand('groupPath is required for a group scope token', 'groupPath');
      const group = await this.directory.groupByPath(body.groupPath);
      if (!group) throw new ResourceNotFound('Group', body.groupPath);
      if (group.parentId !== undefined) {
        throw new InvalidCommand('SCIM tokens belong to top-level groups; use the top-level group path', 'groupPath');
      }
      scope = groupScope(group.id);
      url = `${this.config.publicUrl}/api/scim/v2/groups/${encodeURIComponent(group.fullPath)}`;
    }
    const issued = await this.commands.execute(new IssueScimTokenCommand(scope, commandContext(req, 201), body.name, body.expiresAt));
    await this.ryw.settle(issued.position);
    return { id: issued.id, scim_api_url: url, scim_token: issued.secret, ...(body.expiresAt ? { expires_at: body.expiresAt } : {}) };
  }

  @Get('scim/tokens')
  @ApiOperation({ summary: 'SCIM tokens (never their secrets). Admin.' })
  @ApiOkResponse({ type: [TokenView] })
  async listScimTokens() {
    await this.ryw.settle();
    return this.tokens.list('scim').map(renderToken);
  }

  @Delete('scim/tokens/:id')
  @ApiOperation({ summary: 'Revoke a SCIM token. Admin.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(404)
  @HttpCode(204)
  async revokeScimToken(@Param('id') id: string, @Req() req: AppRequest) {
    await this.commands.execute(new RevokeTokenCommand(id, 'scim', commandContext(req, 204)));
    await this.ryw.settle();
  }

  @Post('tokens')
  @ApiOperation({ summary: 'Issue a management token for a role; the secret is shown once. Admin.' })
  @ApiCreatedResponse({ type: IssuedManagementTokenView })
  @ApiErrors(400)
  async createManagementToken(@Body() body: CreateManagementTokenDto, @Req() req: AppRequest) {
    const issued = await this.commands.execute(
      new IssueManagementTokenCommand(body.role, commandContext(req, 201), {
        ...(body.name ? { name: body.name } : {}),
        ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
        ...(body.pii !== undefined ? { pii: body.pii } : {}),
      }),
    );
    await this.ryw.settle(issued.position);
    return { id: issued.id, role: body.role, token: issued.secret, ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}) };
  }

  @Get('tokens')
  @ApiOperation({ summary: 'Management tokens (never their secrets). Admin.' })
  @ApiOkResponse({ type: [TokenView] })
  async listManagementTokens() {
    await this.ryw.settle();
    return this.tokens.list('management').map(renderToken);
  }

  @Delete('tokens/:id')
  @ApiOperation({ summary: 'Revoke a management token. Admin.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(404)
  @HttpCode(204)
  async revokeManagementToken(@Param('id') id: string, @Req() req: AppRequest) {
    await this.commands.execute(new RevokeTokenCommand(id, 'management', commandContext(req, 204)));
    await this.ryw.settle();
  }

  private get tokens() {
    return this.runner.handle<TokensHandle>('tokens');
  }
}

function renderToken(t: TokenRow) {
  return {
    id: t.id,
    ...(t.kind === 'scim' ? { scope: t.scope } : { role: t.role, pii: t.pii }),
    name: t.name,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
    active: !t.revokedAt && (!t.expiresAt || Date.parse(t.expiresAt) > Date.now()),
  };
}
