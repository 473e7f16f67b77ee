import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiQueryString, ManagementApi } from '../infrastructure/openapi';
import { AuditRecordView, ChainHeadView, ExportRangeDto, ExportStartView, HealthView, PublicKeyView, SignedCheckpointView, VerificationView } from './audit.views';
import type { FastifyReply } from 'fastify';
import {
  AuditCheckpointsQuery,
  AuditEventsQuery,
  AuditHeadsQuery,
  AuditKeysQuery,
  AuditVerificationQuery,
  ExportAuditLogCommand,
  ProvisioningHealthQuery,
  SignCheckpointsCommand,
  StartAuditBundleCommand,
} from '@app/audit';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { InvalidCommand } from '@app/identity';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext, requestState } from '../infrastructure/request-context';

type Q = Record<string, string | undefined>;

/** The audit log: query with cursor paging (a live feed without `until`), exports, keys, checkpoints. */
@ApiTags('Audit')
@ManagementApi()
@Controller('api/v1/audit')
@UseGuards(ManagementAuthGuard)
export class AuditController {
  constructor(
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('events')
  @ApiOperation({ summary: 'Query the audit log with cursor paging; the Link header (rel=next) gives the next page, and without until it is a live feed' })
  @ApiQueryString('q', 'An event type or an id; for readers with pii also any userName, email, externalId or NameID a person ever held')
  @ApiQueryString('filter', 'A SCIM-style filter over the envelope, e.g. outcome eq "rejected" and type sw "Identity"')
  @ApiQueryString('since', 'Recorded at or after (RFC 3339)', { format: 'date-time' })
  @ApiQueryString('until', 'Recorded before (RFC 3339); absent: a live feed', { format: 'date-time' })
  @ApiQueryString('limit', 'Page size, 1 to 1000 (default 100)', { example: '100' })
  @ApiQueryString('sortOrder', 'Log order (default ascending)', { enum: ['ascending', 'descending'] })
  @ApiQueryString('after', 'The cursor from the previous page\'s Link header')
  @ApiOkResponse({ type: [AuditRecordView], description: 'Records; personal values masked unless the token may see them' })
  @ApiErrors(400)
  @Roles('admin', 'auditor')
  async events(@Query() q: Q, @Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    singles(q);
    const page = await this.queries.execute(
      new AuditEventsQuery({ q: q.q, filter: q.filter, since: q.since, until: q.until, limit: q.limit, sortOrder: q.sortOrder, after: q.after }, pii(req)),
    );
    if (page.next) {
      const params = new URLSearchParams({ ...Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<string, string>, ...page.next });
      void reply.header('Link', `<${this.config.publicUrl}/api/v1/audit/events?${params.toString()}>; rel="next"`);
    }
    return page.records;
  }

  /**
   * Streams the range as NDJSON (one canonical chained envelope per line, in log order) or CSV,
   * a page at a time from the database, giving the event loop back between pages: an export of
   * millions of events neither sits in memory nor stalls other requests.
   */
  @Get('export')
  @ApiOperation({ summary: 'Stream a contiguous range as NDJSON (canonical chained records) or CSV. Needs personal-data access.' })
  @ApiQueryString('format', 'ndjson (default) or csv', { enum: ['ndjson', 'csv'] })
  @ApiQueryString('since', 'From this time (RFC 3339)', { format: 'date-time' })
  @ApiQueryString('until', 'Until this time (RFC 3339)', { format: 'date-time' })
  @ApiQueryString('fromPosition', 'From this log position (from a manifest; wins over times)')
  @ApiQueryString('toPosition', 'To this log position')
  @ApiOkResponse({ description: 'One record per line', content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } })
  @ApiErrors(400)
  @Roles('admin', 'auditor')
  async export(@Query() q: Q, @Req() req: AppRequest, @Res() reply: FastifyReply) {
    singles(q);
    const range = { format: q.format, since: q.since, until: q.until, fromPosition: q.fromPosition, toPosition: q.toPosition };
    const file = await this.commands.execute(new ExportAuditLogCommand(range, pii(req), commandContext(req, 200)));
    void reply.header('Content-Type', file.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    return reply.send(Readable.from(file.chunks));
  }

  /**
   * Starts an export bundle: fixes the range, signs a fresh checkpoint at the last record of
   * each scope inside it, and answers the signed manifest (range, every scope that exists with
   * its count and edge hashes, the checkpoints, the SHA-256 of every file) with the checkpoints
   * and public keys to write beside it. The events themselves are then downloaded with
   * `GET export?fromPosition&toPosition`, and must match the signed digests.
   */
  @Post('exports')
  @ApiOperation({ summary: 'Start a verifiable bundle: fix the range, sign checkpoints, answer the signed manifest, checkpoints and keys' })
  @ApiBody({ type: ExportRangeDto, required: false, description: 'The range; the same names are accepted as query parameters' })
  @ApiQueryString('since', 'From this time (RFC 3339)', { format: 'date-time' })
  @ApiQueryString('until', 'Until this time (RFC 3339)', { format: 'date-time' })
  @ApiQueryString('fromPosition', 'From this log position')
  @ApiQueryString('toPosition', 'To this log position')
  @ApiCreatedResponse({ type: ExportStartView })
  @ApiErrors(400)
  @HttpCode(201)
  @Roles('admin', 'auditor')
  async startExport(@Query() q: Q, @Body() body: unknown, @Req() req: AppRequest) {
    singles(q);
    const range = { since: q.since, until: q.until, fromPosition: q.fromPosition, toPosition: q.toPosition };
    return this.commands.execute(new StartAuditBundleCommand(range, body, pii(req), commandContext(req, 200)));
  }

  @Get('keys')
  @ApiOperation({ summary: 'The public keys that sign checkpoints and manifests (pin the fingerprint)' })
  @ApiOkResponse({ type: [PublicKeyView] })
  @Roles('admin', 'auditor', 'support')
  keys() {
    return this.queries.execute(new AuditKeysQuery());
  }

  /**
   * Where each scope's chain stands now (last record's position, count and hash): what two
   * instances on one store, or a store before and after a move, must agree on. Read-only.
   */
  @Get('heads')
  @ApiOperation({ summary: "Where each scope's hash chain stands now" })
  @ApiOkResponse({ type: [ChainHeadView] })
  @Roles('admin', 'auditor')
  async heads() {
    return this.queries.execute(new AuditHeadsQuery());
  }

  @Get('checkpoints')
  @ApiOperation({ summary: 'Every signed checkpoint' })
  @ApiOkResponse({ type: [SignedCheckpointView] })
  @Roles('admin', 'auditor')
  async checkpoints() {
    return this.queries.execute(new AuditCheckpointsQuery());
  }

  /**
   * Re-verifies the stored log now: every hash, every link, every checkpoint signature. The
   * same checks an auditor runs offline on an export, here for the console's status line, a
   * page at a time with the event loop given back in between.
   */
  @Get('verification')
  @ApiOperation({ summary: 'Re-verify the stored log now: every hash, link and checkpoint signature' })
  @ApiOkResponse({ type: VerificationView })
  @Roles('admin', 'auditor')
  async verification() {
    return this.queries.execute(new AuditVerificationQuery());
  }

  /**
   * Provisioning health from the audit read model: per scope and SCIM token, requests and
   * refusals per time bucket, top refusal reasons, and retry loops (the same refusal coming
   * back) with the accounts they concern. The window is capped so the answer stays bounded.
   */
  @Get('health')
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'Provisioning health per scope and SCIM token: requests and refusals over time, top refusal reasons, retry loops' })
  @ApiQueryString('since', 'Window start (RFC 3339); default 24 hours before until', { format: 'date-time' })
  @ApiQueryString('until', 'Window end (RFC 3339); default now', { format: 'date-time' })
  @ApiQueryString('buckets', 'Number of time buckets, 1 to 200 (default 48)', { example: '48' })
  @ApiOkResponse({ type: HealthView })
  @ApiErrors(400)
  async health(@Query() q: Q) {
    singles(q);
    return this.queries.execute(new ProvisioningHealthQuery({ since: q.since, until: q.until, buckets: q.buckets }));
  }

  @Post('checkpoints')
  @ApiOperation({ summary: 'Sign a checkpoint at the head of every scope now. Admin.' })
  @ApiCreatedResponse({ type: [SignedCheckpointView], description: 'The checkpoints signed in this round (none when all are signed already)' })
  @HttpCode(201)
  async checkpoint() {
    return this.commands.execute(new SignCheckpointsCommand());
  }
}

/** Whether the token may see personal values unmasked: an admin, or an auditor created with "pii": true. */
function pii(req: AppRequest): boolean {
  const p = requestState(req).principal;
  return p?.kind === 'management' && p.pii;
}

/** A query parameter given twice arrives as an array: refused (400) rather than guessed at. */
function singles(q: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(q)) if (typeof v !== 'string') throw new InvalidCommand(`${name} must be given once`, name);
}
