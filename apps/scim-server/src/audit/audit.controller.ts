import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiQueryString, ManagementApi } from '../infrastructure/openapi';
import { AuditRecordView, ChainHeadView, ExportRangeDto, ExportStartView, HealthView, PublicKeyView, SignedCheckpointView, VerificationView } from './audit.views';
import type { FastifyReply } from 'fastify';
import { type AuditHandle, ChainVerifier, LOOP_MIN, compileAuditFilter, CSV_HEADER, csvText, ManifestBuilder, maskEnvelope, ndjsonLine, sortCheckpoints } from '@app/audit';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore, type JsonObject, timeOrderedId } from '@app/event-store';
import { eventMetadata, Forbidden, InvalidCommand } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { TokensHandle } from '@app/auth';
import type { GroupsHandle } from '@app/read-models';
import type { IdentifierHistoryHandle } from '@app/support';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext, requestState } from '../infrastructure/request-context';
import { AuditSigningService } from './audit-signing.service';

type Q = Record<string, string | undefined>;

/** The audit log: query with cursor paging (a live feed without `until`), exports, keys, checkpoints. */
@ApiTags('Audit')
@ManagementApi()
@Controller('api/v1/audit')
@UseGuards(ManagementAuthGuard)
export class AuditController {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly signing: AuditSigningService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('events')
  @ApiOperation({ summary: 'Query the audit log with cursor paging; the Link header (rel=next) gives the next page, and without until it is a live feed' })
  @ApiQueryString('q', 'Free text: event types, ids, names, emails, externalIds')
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
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidCommand('limit must be an integer from 1 to 1000', 'limit');
    const descending = (q.sortOrder ?? 'ascending').toLowerCase() === 'descending';
    const after = q.after !== undefined ? decodeCursor(q.after) : undefined;
    await this.ryw.settle();
    const rows = this.audit.query({
      ...(q.since ? { sinceMs: time(q.since, 'since') } : {}),
      ...(q.until ? { untilMs: time(q.until, 'until') } : {}),
      ...(q.filter ? { where: compileAuditFilter(q.filter) } : {}),
      ...(q.q ? { q: q.q } : {}),
      ...(after !== undefined ? { after } : {}),
      descending,
      limit,
    });
    // Without `until` the query is a live feed: there is always a next page to poll.
    if (rows.length === limit || q.until === undefined) {
      const last = rows.length ? Number(rows[rows.length - 1].position) : after;
      const params = new URLSearchParams({ ...Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<string, string>, ...(last !== undefined ? { after: encodeCursor(last) } : {}) });
      void reply.header('Link', `<${this.config.publicUrl}/api/v1/audit/events?${params.toString()}>; rel="next"`);
    }
    return this.pii(req) ? rows : rows.map((r) => ({ ...maskEnvelope(r), seq: r.seq, prevHash: r.prevHash, hash: r.hash }));
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
    this.requirePii(req);
    singles(q);
    const format = (q.format ?? 'ndjson').toLowerCase();
    if (format !== 'ndjson' && format !== 'csv') throw new InvalidCommand('format must be ndjson or csv', 'format');
    await this.ryw.settle();
    const range = this.range(q);
    await this.recordExport(req, { format, since: q.since ?? null, until: q.until ?? null, fromPosition: range.from, toPosition: range.to });
    const audit = this.audit;
    const body = Readable.from(
      (async function* () {
        if (format === 'csv') yield `${CSV_HEADER}\n`;
        for (const rows of audit.range(range.from, range.to)) {
          let text = '';
          for (const r of rows) text += format === 'csv' ? csvText(r) : ndjsonLine(r);
          yield text;
          await yieldToEventLoop();
        }
      })(),
    );
    void reply.header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    return reply.send(body);
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
    this.requirePii(req);
    singles(q);
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    // The body wins; the same names are accepted as query parameters.
    const param = (name: keyof ExportRangeDto, fromQuery: string | undefined) => {
      const v = b[name] ?? fromQuery;
      if (v !== undefined && typeof v !== 'string') throw new InvalidCommand(`${name} must be a string`, name);
      return v;
    };
    const since = param('since', q.since);
    const until = param('until', q.until);
    await this.ryw.settle();
    const range = this.range({ since, until, fromPosition: param('fromPosition', q.fromPosition), toPosition: param('toPosition', q.toPosition) });
    const audit = this.audit;
    const builder = new ManifestBuilder();
    for (const rows of audit.range(range.from, range.to)) {
      for (const r of rows) builder.add(r);
      await yieldToEventLoop();
    }
    await this.signing.checkpointAt(builder.lastRecords());
    const emptyScopes = audit
      .heads()
      .filter((h) => !builder.has(h.scope))
      .flatMap((h) => {
        const before = audit.chainBefore(h.scope, range.from);
        return before ? [{ scope: h.scope, prevSeq: before.seq, prevHash: before.hash }] : [];
      });
    const checkpoints = sortCheckpoints(audit.checkpoints().filter((c) => Number(c.position) >= range.from && Number(c.position) <= range.to));
    const keys = await this.signing.publicKeys();
    const manifest = this.signing.signManifest(
      builder.build({ fromPosition: String(range.from), toPosition: String(range.to), createdAt: new Date().toISOString(), emptyScopes, checkpoints, keys, signingKey: keys[0] }),
    );
    await this.recordExport(req, { format: 'bundle', since: since ?? null, until: until ?? null, fromPosition: range.from, toPosition: range.to });
    return { manifest, checkpoints, keys };
  }

  @Get('keys')
  @ApiOperation({ summary: 'The public keys that sign checkpoints and manifests (pin the fingerprint)' })
  @ApiOkResponse({ type: [PublicKeyView] })
  @Roles('admin', 'auditor', 'support')
  keys() {
    return this.signing.publicKeys();
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
    await this.ryw.settle();
    return this.audit
      .heads()
      .map((h) => ({ scope: h.scope, position: String(h.position), count: h.count, hash: h.hash }))
      .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }

  @Get('checkpoints')
  @ApiOperation({ summary: 'Every signed checkpoint' })
  @ApiOkResponse({ type: [SignedCheckpointView] })
  @Roles('admin', 'auditor')
  async checkpoints() {
    await this.ryw.settle();
    return this.audit.checkpoints();
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
    await this.ryw.settle();
    const audit = this.audit;
    const checkpoints = audit.checkpoints();
    const positions = new Set(checkpoints.map((c) => c.position));
    const verifier = new ChainVerifier();
    for (const rows of audit.range(0, Number.MAX_SAFE_INTEGER)) {
      if (!verifier.add(rows, (p) => positions.has(p))) break;
      await yieldToEventLoop();
    }
    const keys = await this.signing.publicKeys();
    verifier.checkpoints(checkpoints, Object.fromEntries(keys.map((k) => [k.keyId, k.publicKeyPem])));
    return { ...verifier.verdict(checkpoints.length), checkedAt: new Date().toISOString() };
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
    const untilMs = q.until ? time(q.until, 'until') : Date.now();
    const sinceMs = q.since ? time(q.since, 'since') : untilMs - DAY_MS;
    if (sinceMs >= untilMs) throw new InvalidCommand('since must lie before until', 'since');
    if (untilMs - sinceMs > 31 * DAY_MS) throw new InvalidCommand('the window may span at most 31 days', 'since');
    const buckets = q.buckets === undefined ? 48 : Number(q.buckets);
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 200) throw new InvalidCommand('buckets must be an integer from 1 to 200', 'buckets');
    const bucketMs = Math.max(1000, Math.ceil((untilMs - sinceMs) / buckets));
    await this.ryw.settle();
    const h = this.audit.health(sinceMs, untilMs, bucketMs);
    const history = this.runner.handle<IdentifierHistoryHandle>('identifier-history');
    const accountOf = (id: string) => history.find(id).find((s) => s.kind === 'scimId' || s.kind === 'accountId')?.accountId ?? null;
    const key = (r: { scope: string; tokenId: string | null }) => `${r.scope}\u0000${r.tokenId ?? ''}`;
    const sources = new Map<string, { scope: string; tokenId: string | null; requests: number[]; refusals: number[] }>();
    for (const r of h.series) {
      let s = sources.get(key(r));
      if (!s) sources.set(key(r), (s = { scope: r.scope, tokenId: r.tokenId, requests: new Array<number>(buckets).fill(0), refusals: new Array<number>(buckets).fill(0) }));
      if (r.bucket >= 0 && r.bucket < buckets) {
        s.requests[r.bucket] += r.requests;
        s.refusals[r.bucket] += r.refusals;
      }
    }
    const scopeName = (scope: string) => this.scopeName(scope);
    return {
      since: new Date(sinceMs).toISOString(),
      until: new Date(untilMs).toISOString(),
      bucketSeconds: bucketMs / 1000,
      loopThreshold: LOOP_MIN,
      sources: [...sources.values()].map((s) => ({
        ...s,
        scopeName: scopeName(s.scope),
        tokenName: s.tokenId ? (this.tokenName(s.tokenId) ?? null) : null,
        totalRequests: s.requests.reduce((a, b) => a + b, 0),
        totalRefusals: s.refusals.reduce((a, b) => a + b, 0),
        reasons: h.reasons.filter((r) => key(r) === key(s)).slice(0, 5).map((r) => ({ reason: r.reason, status: r.status, count: r.count })),
      })),
      loops: h.loops.map((l) => ({
        scope: l.scope,
        scopeName: scopeName(l.scope),
        tokenId: l.tokenId,
        method: l.method,
        resource: l.resource,
        targetId: l.targetId,
        accountId: accountOf(l.targetId),
        reason: l.reason,
        attribute: l.attribute,
        count: l.count,
        first: new Date(l.firstMs).toISOString(),
        last: new Date(l.lastMs).toISOString(),
      })),
    };
  }

  @Post('checkpoints')
  @ApiOperation({ summary: 'Sign a checkpoint at the head of every scope now. Admin.' })
  @ApiCreatedResponse({ type: [SignedCheckpointView], description: 'The checkpoints signed in this round (none when all are signed already)' })
  @HttpCode(201)
  async checkpoint() {
    return this.signing.checkpointNow();
  }

  private async recordExport(req: AppRequest, data: Record<string, string | number | null>): Promise<void> {
    await this.store.append('audit-exports', [{ id: timeOrderedId(), type: 'AuditExported', data: data as JsonObject, metadata: eventMetadata(commandContext(req, 200), 'instance', new Date().toISOString()) }], 'any');
  }

  private range(q: Q): { from: number; to: number } {
    // An explicit position range (from a manifest) makes repeated exports byte-identical.
    if (q.fromPosition !== undefined || q.toPosition !== undefined) {
      const from = Number(q.fromPosition ?? 0);
      const to = Number(q.toPosition ?? Number.MAX_SAFE_INTEGER);
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new InvalidCommand('fromPosition and toPosition must be integers', 'fromPosition');
      return { from, to };
    }
    const rows = (sinceMs: number | undefined, untilMs: number | undefined, descending: boolean) =>
      this.audit.query({ ...(sinceMs !== undefined ? { sinceMs } : {}), ...(untilMs !== undefined ? { untilMs } : {}), descending, limit: 1 });
    const sinceMs = q.since ? time(q.since, 'since') : undefined;
    const untilMs = q.until ? time(q.until, 'until') : undefined;
    const first = rows(sinceMs, untilMs, false)[0];
    const last = rows(sinceMs, untilMs, true)[0];
    return first && last ? { from: Number(first.position), to: Number(last.position) } : { from: 1, to: 0 };
  }

  private pii(req: AppRequest): boolean {
    const p = requestState(req).principal;
    return p?.kind === 'management' && p.pii;
  }

  private requirePii(req: AppRequest): void {
    // A verifiable export holds the records exactly as chained: masking would break every hash.
    if (!this.pii(req)) throw new Forbidden('Exports hold personal data: use an admin token or an auditor token created with "pii": true');
  }

  private scopeName(scope: string): string {
    const m = /^group:(.+)$/.exec(scope);
    return m ? `group ${this.runner.handle<GroupsHandle>('groups').byId(m[1])?.fullPath ?? m[1]}` : scope;
  }

  private tokenName(id: string): string | undefined {
    return this.runner.handle<TokensHandle>('tokens').list('scim').find((t) => t.id === id)?.name ?? undefined;
  }

  private get audit() {
    return this.runner.handle<AuditHandle>('audit');
  }
}

/** A query parameter given twice arrives as an array: refused (400) rather than guessed at. */
function singles(q: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(q)) if (typeof v !== 'string') throw new InvalidCommand(`${name} must be given once`, name);
}

const DAY_MS = 86_400_000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function time(v: string, name: string): number {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidCommand(`${name} must be an RFC 3339 time`, name);
  return ms;
}

function encodeCursor(position: number): string {
  return Buffer.from(`p:${position}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^p:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new InvalidCommand('after is not a cursor this server issued', 'after');
  return Number(m[1]);
}
