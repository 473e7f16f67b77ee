import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiQueryString, ManagementApi } from '../infrastructure/openapi';
import { DiffView, FieldOriginView, NameIdDiagnosisView, RemediationResultView, SearchView, StateAtView, TimelineView } from './support.views';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';
import type { AuditHandle } from '@app/audit';
import { EVENT_STORE, type EventStore, type JsonObject, type RecordedEvent, StreamNotFoundError, timeOrderedId } from '@app/event-store';
import {
  type AccountCommand,
  type AccountState,
  AccountWriter,
  accountStream,
  decide,
  eventMetadata,
  groupScope,
  IDENTITY_DIRECTORY,
  type IdentityDirectory,
  InvalidCommand,
  occurredAtOf,
  ResourceNotFound,
  retryOnConflict,
  type ScopeId,
} from '@app/identity';
import { mapInSlices, ProjectionRunner, ReadYourWrites, Slicer } from '@app/projections';
import { diagnoseNameId, diffStates, guessIdp, type IdentifierHistoryHandle, oneLine, stateAtInSlices } from '@app/support';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext, requestState } from '../infrastructure/request-context';

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
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly writer: AccountWriter,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  /** Any identifier, current or past; `at` answers "who held X on date D". */
  @Get('search')
  @ApiOperation({ summary: 'Find anyone by any identifier they ever had (userName, externalId, NameID, email, ids)' })
  @ApiQueryString('q', 'The identifier, case-insensitive', { required: true, example: 'alice@acme.test' })
  @ApiQueryString('at', 'Only who held it at this time (RFC 3339)', { format: 'date-time' })
  @ApiOkResponse({ type: SearchView })
  @ApiErrors(400)
  async search(@Query('q') q: string | undefined, @Query('at') at: string | undefined, @Req() req: AppRequest) {
    if (!q) throw new InvalidCommand('q is required', 'q');
    await this.ryw.settle();
    await this.recordRead(req, 'search');
    const spans = this.history.find(q, at ? time(at) : undefined);
    const accounts = [...new Set(spans.map((s) => s.accountId))];
    return { query: q, ...(at ? { at } : {}), matches: spans, accounts };
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
    const events = await this.accountEvents(accountId);
    await this.recordRead(req, 'timeline', accountId);
    const identityIds = new Set(this.history.ofAccount(accountId).filter((s) => s.kind === 'scimId').map((s) => s.value));
    const ids = [...identityIds];
    const rejections = ids.length
      ? this.runner.handle<AuditHandle>('audit').query({
          where: { sql: `outcome = 'rejected' AND target_id IN (${ids.map(() => '?').join(', ')})`, params: ids },
          descending: false,
          limit: 1000,
        })
      : [];
    const slicer = new Slicer();
    const entries = [
      ...(await mapInSlices(events, (e) => ({
        position: e.position.toString(),
        recordedAt: e.recordedAt.toISOString(),
        occurredAt: occurredAtOf(e),
        type: e.type,
        scope: String(e.metadata.scope ?? ''),
        actor: e.metadata.actor,
        idp: guessIdp((e.metadata.request as { userAgent?: string } | undefined)?.userAgent),
        requestId: e.metadata.$correlationId,
        outcome: 'success',
        summary: oneLine(e.type, e.data as Record<string, unknown>),
        data: e.data,
      }))),
      ...rejections.map((r) => ({
        position: r.position,
        recordedAt: r.recordedAt,
        occurredAt: r.occurredAt,
        type: r.type,
        scope: r.scope,
        actor: r.actor,
        idp: guessIdp((r.request as { userAgent?: string } | undefined)?.userAgent),
        requestId: r.correlationId,
        outcome: 'rejected',
        summary: oneLine(r.type, r.data as Record<string, unknown>),
        data: r.data,
      })),
    ]
      .filter((e) => !query.type || e.type === query.type)
      .filter((e) => !query.scope || e.scope === query.scope)
      .filter((e) => !query.since || Date.parse(e.recordedAt) >= time(query.since))
      .filter((e) => !query.until || Date.parse(e.recordedAt) < time(query.until))
      .sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
    await slicer.maybeYield();
    return { accountId, entries };
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
    const events = await this.accountEvents(accountId);
    await this.recordRead(req, 'state', accountId);
    return stateAtInSlices(events, point(at, revision));
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
    const events = await this.accountEvents(accountId);
    await this.recordRead(req, 'diff', accountId);
    const a = await stateAtInSlices(events, point(q.fromAt, q.fromRevision));
    const b = await stateAtInSlices(events, point(q.toAt, q.toRevision));
    return { from: { revision: a.revision, at: a.at }, to: { revision: b.revision, at: b.at }, changes: diffStates(a.state, b.state) };
  }

  /** `nameId`, or a base64 SAML response to take it from. */
  @Get('nameid-diagnosis')
  @ApiOperation({ summary: 'Why a SAML sign-in with this NameID works or not' })
  @ApiQueryString('nameId', 'The NameID the IdP sends')
  @ApiQueryString('samlResponse', 'Or a base64 SAML response to take the NameID from')
  @ApiOkResponse({ type: NameIdDiagnosisView })
  @ApiErrors(400)
  async nameId(@Query('nameId') nameId: string | undefined, @Query('samlResponse') samlResponse: string | undefined, @Req() req: AppRequest) {
    const value = nameId ?? (samlResponse ? nameIdFromSamlResponse(samlResponse) : undefined);
    if (!value) throw new InvalidCommand('nameId (or a samlResponse holding one) is required', 'nameId');
    await this.ryw.settle();
    await this.recordRead(req, 'nameid-diagnosis');
    const spans = this.history.find(value);
    const accounts = new Map<string, AccountState>();
    for (const id of new Set(spans.map((s) => s.accountId))) accounts.set(id, (await this.writer.repository.load(id)).state);
    return { nameId: value, findings: diagnoseNameId(value, spans, accounts) };
  }

  /** Audited fixes: a reason is required; `dryRun` shows the events that would be written. */
  @Post('remediations')
  @ApiOperation({ summary: 'An audited fix (change externalId, reactivate, unlink, link) with a reason; dryRun shows the events' })
  @ApiOkResponse({ type: RemediationResultView })
  @ApiErrors(400, 404, 409)
  @HttpCode(200)
  async remediate(@Body() body: RemediationDto, @Req() req: AppRequest) {
    return retryOnConflict(async () => {
      const { accountId, command, scope } = await this.plan(body);
      const loaded = await this.writer.repository.load(accountId);
      if (!loaded.state.exists) throw new ResourceNotFound('Account', accountId);
      const events = decide(command, loaded.state);
      if (body.dryRun) return { dryRun: true, accountId, events };
      const result = await this.writer.execute({ accountId, loaded, command, ctx: commandContext(req, 200, body.reason), scope });
      await this.ryw.settle();
      return { dryRun: false, accountId, revision: result.revision.toString(), events: result.events };
    });
  }

  private async plan(b: RemediationDto): Promise<{ accountId: string; command: AccountCommand; scope: ScopeId | 'instance' }> {
    const none = { hierarchyGroupIds: [] as string[], soleOwnerGroupIds: [] as string[] };
    const now = this.writer.now();
    if (b.action === 'link') {
      if (!b.accountId || !b.userName) throw new InvalidCommand('link needs accountId and userName (and optionally externalId, groupPath)', 'accountId');
      let scope: ScopeId = 'application';
      let defaultMembership;
      if (b.groupPath) {
        const g = await this.directory.groupByPath(b.groupPath);
        if (!g || g.parentId !== undefined) throw new ResourceNotFound('Group', b.groupPath);
        scope = groupScope(g.id);
        defaultMembership = { groupId: g.id, level: g.defaultMembershipLevel };
      }
      return {
        accountId: b.accountId,
        scope,
        command: {
          type: 'LinkIdentity',
          now,
          identityId: timeOrderedId(),
          scope,
          attributes: { userName: b.userName, ...(b.externalId ? { externalId: b.externalId } : {}) },
          active: true,
          reason: 'remediation',
          reprovision: defaultMembership ? { defaultMembership } : {},
        },
      };
    }
    if (!b.scimId) throw new InvalidCommand(`${b.action} needs scimId`, 'scimId');
    const found = this.history.find(b.scimId).find((s) => s.kind === 'scimId');
    if (!found || !found.scope) throw new ResourceNotFound('Identity', b.scimId);
    const { state } = await this.writer.repository.load(found.accountId);
    const identity = state.identities[b.scimId];
    if (!identity) throw new ResourceNotFound('Identity', b.scimId);
    const scope = identity.scope;
    if (b.action === 'unlink') return { accountId: found.accountId, scope, command: { type: 'UnlinkIdentity', now, identityId: b.scimId, deprovision: none } };
    if (b.action === 'reactivate') {
      return {
        accountId: found.accountId,
        scope,
        command: { type: 'UpdateIdentity', now, identityId: b.scimId, attributes: identity.attributes, active: true, revive: true, deprovision: none, reprovision: {} },
      };
    }
    if (!b.externalId) throw new InvalidCommand('change-external-id needs externalId', 'externalId');
    return {
      accountId: found.accountId,
      scope,
      command: { type: 'UpdateIdentity', now, identityId: b.scimId, attributes: { ...identity.attributes, externalId: b.externalId }, deprovision: none, reprovision: {} },
    };
  }

  /**
   * The whole stream, read a page at a time with a turn of the event loop between pages: an
   * account with a history of tens of thousands of events must not stall other requests.
   */
  private async accountEvents(accountId: string): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    try {
      for (let from = 0n; ; ) {
        const page = await this.store.readStream(accountStream(accountId), { fromRevision: from, maxCount: STREAM_PAGE });
        out.push(...page);
        if (page.length < STREAM_PAGE) return out;
        from = page[page.length - 1].revision + 1n;
        await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) throw new ResourceNotFound('Account', accountId);
      throw err;
    }
  }

  private async recordRead(req: AppRequest, what: string, subject?: string): Promise<void> {
    const p = requestState(req).principal;
    if (p?.kind !== 'management' || p.role !== 'support') return;
    await this.store.append(
      'supportReads',
      [{ id: timeOrderedId(), type: 'SupportDataRead', data: { what, ...(subject ? { subject } : {}) } as JsonObject, metadata: eventMetadata(commandContext(req, 200), 'instance', new Date().toISOString()) }],
      'any',
    );
  }

  private get history() {
    return this.runner.handle<IdentifierHistoryHandle>('identifier-history');
  }
}

const STREAM_PAGE = 500;

function time(v: string): number {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidCommand('times must be RFC 3339', 'at');
  return ms;
}

function point(at: string | undefined, revision: string | undefined): { atMs?: number; revision?: bigint } {
  if (revision !== undefined) {
    if (!/^\d{1,18}$/.test(revision)) throw new InvalidCommand('revision must be a non-negative integer', 'revision');
    return { revision: BigInt(revision) };
  }
  return at !== undefined ? { atMs: time(at) } : {};
}

/** The NameID of a SAML response (base64 XML), without a full XML parser: one element's text. */
function nameIdFromSamlResponse(b64: string): string | undefined {
  const xml = Buffer.from(b64, 'base64').toString('utf8');
  const m = /<(?:[A-Za-z0-9_-]+:)?NameID\b[^>]*>([^<]+)<\/(?:[A-Za-z0-9_-]+:)?NameID>/.exec(xml);
  return m?.[1].trim();
}
