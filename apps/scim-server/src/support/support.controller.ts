import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiQueryString, ManagementApi } from '../infrastructure/openapi';
import { DiffView, FieldOriginView, NameIdDiagnosisView, RemediationResultView, SearchView, StateAtView, TimelineView } from './support.views';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { QueryBus, CommandBus } from '@nestjs/cqrs';
import { AccountDiffQuery, AccountStateAtQuery, AccountTimelineQuery, DiagnoseNameIdQuery, RemediateCommand, SearchIdentifiersQuery } from '@app/support';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext } from '../infrastructure/request-context';

const ACCOUNT_ID = { name: 'accountId', format: 'uuid' };

export class RemediationDto {
  @ApiProperty({ enum: ['change-external-id', 'reactivate', 'unlink', 'link'] }) @IsIn(['change-external-id', 'reactivate', 'unlink', 'link']) action!: 'change-external-id' | 'reactivate' | 'unlink' | 'link';
  @ApiProperty({ description: 'Recorded with the events', minLength: 3 }) @IsString() @Length(3, 1000) reason!: string;
  @ApiPropertyOptional({ description: 'Show the events that would be written; write nothing' }) @IsOptional() @IsBoolean() dryRun?: boolean;
  @ApiPropertyOptional({ format: 'uuid', description: 'change-external-id, reactivate, unlink' }) @IsOptional() @IsString() @Length(36, 36) scimId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'link' }) @IsOptional() @IsString() @Length(36, 36) accountId?: string;
  @ApiPropertyOptional({ description: 'change-external-id (required), link' }) @IsOptional() @IsString() @Length(1, 2048) externalId?: string;
  @ApiPropertyOptional({ description: 'link' }) @IsOptional() @IsString() @Length(1, 2048) userName?: string;
  @ApiPropertyOptional({ description: 'link: the top-level group scope; application when absent' }) @IsOptional() @IsString() @Length(1, 1024) groupPath?: string;
}

/**
 * Support: find anyone by any identifier they ever had, read their timeline and their state
 * at any past moment, diagnose a SAML NameID, and fix identities with audited remediations.
 * Every read of personal data by a support token is itself recorded.
 */
@ApiTags('Support')
@ManagementApi()
@ApiExtraModels(FieldOriginView)
@Controller('api/v1/support')
@UseGuards(ManagementAuthGuard)
@Roles('admin', 'support')
export class SupportController {
  constructor(
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  /** Any identifier, current or past; `at` answers "who held X on date D". */
  @Get('search')
  @ApiOperation({ summary: 'Find anyone by any identifier they ever had (userName, externalId, NameID, email, ids)' })
  @ApiQueryString('q', 'The identifier, case-insensitive', { required: true, example: 'alice@acme.test' })
  @ApiQueryString('at', 'Only who held it at this time (RFC 3339)', { format: 'date-time' })
  @ApiOkResponse({ type: SearchView })
  @ApiErrors(400)
  async search(@Query('q') q: string | undefined, @Query('at') at: string | undefined, @Req() req: AppRequest) {
    return this.queries.execute(new SearchIdentifiersQuery(q, at, reader(req)));
  }

  @Get('accounts/:accountId/timeline')
  @ApiOperation({ summary: 'An account\'s story: every event and every refused request about it, oldest first' })
  @ApiParam(ACCOUNT_ID)
  @ApiQueryString('type', 'Only events of this type', { example: 'IdentityLinked' })
  @ApiQueryString('scope', 'Only this scope', { example: 'application' })
  @ApiQueryString('since', 'Recorded at or after (RFC 3339)', { format: 'date-time' })
  @ApiQueryString('until', 'Recorded before (RFC 3339)', { format: 'date-time' })
  @ApiOkResponse({ type: TimelineView })
  @ApiErrors(400, 404)
  async timeline(@Param('accountId') accountId: string, @Query() query: Record<string, string | undefined>, @Req() req: AppRequest) {
    const filter = { type: query.type, scope: query.scope, since: query.since, until: query.until };
    return this.queries.execute(new AccountTimelineQuery(accountId, filter, reader(req)));
  }

  /** The account at time `at` or revision `revision`, with the event that set each field. */
  @Get('accounts/:accountId/state')
  @ApiOperation({ summary: 'The account as it stood at a time or stream revision, with the event that set each field' })
  @ApiParam(ACCOUNT_ID)
  @ApiQueryString('at', 'A time (RFC 3339); now when neither is given', { format: 'date-time' })
  @ApiQueryString('revision', 'A stream revision (wins over at)', { example: '3' })
  @ApiOkResponse({ type: StateAtView })
  @ApiErrors(400, 404)
  async state(@Param('accountId') accountId: string, @Query('at') at: string | undefined, @Query('revision') revision: string | undefined, @Req() req: AppRequest) {
    return this.queries.execute(new AccountStateAtQuery(accountId, { at, revision }, reader(req)));
  }

  @Get('accounts/:accountId/diff')
  @ApiOperation({ summary: 'What changed in an account between two points (times or revisions)' })
  @ApiParam(ACCOUNT_ID)
  @ApiQueryString('fromAt', 'From this time (RFC 3339)', { format: 'date-time' })
  @ApiQueryString('fromRevision', 'From this revision', { example: '0' })
  @ApiQueryString('toAt', 'To this time (RFC 3339); now when neither is given', { format: 'date-time' })
  @ApiQueryString('toRevision', 'To this revision')
  @ApiOkResponse({ type: DiffView })
  @ApiErrors(400, 404)
  async diff(@Param('accountId') accountId: string, @Query() q: Record<string, string | undefined>, @Req() req: AppRequest) {
    return this.queries.execute(new AccountDiffQuery(accountId, { at: q.fromAt, revision: q.fromRevision }, { at: q.toAt, revision: q.toRevision }, reader(req)));
  }

  /** `nameId`, or a base64 SAML response to take it from. */
  @Get('nameid-diagnosis')
  @ApiOperation({ summary: 'Why a SAML sign-in with this NameID works or not' })
  @ApiQueryString('nameId', 'The NameID the IdP sends')
  @ApiQueryString('samlResponse', 'Or a base64 SAML response to take the NameID from')
  @ApiOkResponse({ type: NameIdDiagnosisView })
  @ApiErrors(400)
  async nameId(@Query('nameId') nameId: string | undefined, @Query('samlResponse') samlResponse: string | undefined, @Req() req: AppRequest) {
    return this.queries.execute(new DiagnoseNameIdQuery(nameId, samlResponse, reader(req)));
  }

  /** Audited fixes: a reason is required; `dryRun` shows the events that would be written. */
  @Post('remediations')
  @ApiOperation({ summary: 'An audited fix (change externalId, reactivate, unlink, link) with a reason; dryRun shows the events' })
  @ApiOkResponse({ type: RemediationResultView })
  @ApiErrors(400, 404, 409)
  @HttpCode(200)
  async remediate(@Body() body: RemediationDto, @Req() req: AppRequest) {
    const { action, scimId, accountId, externalId, userName, groupPath } = body;
    const r = await this.commands.execute(new RemediateCommand({ action, scimId, accountId, externalId, userName, groupPath }, body.dryRun === true, commandContext(req, 200, body.reason)));
    return r.dryRun ? { dryRun: true, accountId: r.accountId, events: r.events } : { dryRun: false, accountId: r.accountId, revision: r.revision?.toString(), events: r.events };
  }
}

/** Who reads: support handlers record a support token's reads of personal data. */
function reader(req: AppRequest) {
  return commandContext(req, 200);
}
