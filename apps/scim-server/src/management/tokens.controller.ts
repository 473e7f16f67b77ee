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
  tokenIsActive,
  type TokensHandle,
} from '@app/auth';
import { CLOCK, type Clock } from '@app/identity';
import { APP_CONFIG, type AppConfig } from '@app/config';
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('scim/tokens')
  @ApiOperation({ summary: 'Issue a SCIM token for the application or a top-level group; the secret is shown once. Admin.' })
  @ApiCreatedResponse({ type: IssuedScimTokenView })
  @ApiErrors(400, 404)
  async createScimToken(@Body() body: CreateScimTokenDto, @Req() req: AppRequest) {
    const target = body.scope === 'group' ? { scope: 'group' as const, ...(body.groupPath ? { groupPath: body.groupPath } : {}) } : { scope: 'application' as const };
    const issued = await this.commands.execute(new IssueScimTokenCommand(target, commandContext(req, 201), body.name, body.expiresAt));
    await this.ryw.settle(issued.position);
    const base = issued.groupPath !== undefined ? `groups/${encodeURIComponent(issued.groupPath)}` : 'application';
    return { id: issued.id, scim_api_url: `${this.config.publicUrl}/api/scim/v2/${base}`, scim_token: issued.secret, ...(body.expiresAt ? { expires_at: body.expiresAt } : {}) };
  }

  @Get('scim/tokens')
  @ApiOperation({ summary: 'SCIM tokens (never their secrets). Admin.' })
  @ApiOkResponse({ type: [TokenView] })
  async listScimTokens() {
    await this.ryw.settle();
    return this.tokens.list('scim').map((t) => renderToken(t, this.clock.now()));
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
    return this.tokens.list('management').map((t) => renderToken(t, this.clock.now()));
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

function renderToken(t: TokenRow, now: Date) {
  return {
    id: t.id,
    ...(t.kind === 'scim' ? { scope: t.scope } : { role: t.role, pii: t.pii }),
    name: t.name,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
    active: tokenIsActive(t, now),
  };
}
