import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Controller, Get, HttpCode, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type AuditHandle, type ChainedEnvelope, ChainVerifier, compileAuditFilter, maskEnvelope } from '@app/audit';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore, type JsonObject, timeOrderedId } from '@app/event-store';
import { eventMetadata, Forbidden, InvalidCommand } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext, requestState } from '../infrastructure/request-context';
import { AuditSigningService } from './audit-signing.service';

type Q = Record<string, string | undefined>;

/** The audit log: query with cursor paging (a live feed without `until`), exports, keys, checkpoints. */
@ApiTags('Audit')
@ApiBearerAuth()
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
  @Roles('admin', 'auditor')
  async events(@Query() q: Q, @Req() req: AppRequest, @Res({ passthrough: true }) reply: FastifyReply) {
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

  /** Streams the range as NDJSON (canonical chained envelopes in log order) or CSV. */
  @Get('export')
  @Roles('admin', 'auditor')
  async export(@Query() q: Q, @Req() req: AppRequest, @Res() reply: FastifyReply) {
    this.requirePii(req);
    const format = (q.format ?? 'ndjson').toLowerCase();
    if (format !== 'ndjson' && format !== 'csv') throw new InvalidCommand('format must be ndjson or csv', 'format');
    await this.ryw.settle();
    const range = this.range(q);
    await this.store.append('audit-exports', [
      { id: timeOrderedId(), type: 'AuditExported', data: { format, since: q.since ?? null, until: q.until ?? null, fromPosition: range.from, toPosition: range.to } as JsonObject, metadata: eventMetadata(commandContext(req, 200), 'instance', new Date().toISOString()) },
    ], 'any');
    const pages = this.audit.range(range.from, range.to);
    // Streamed a page at a time: an export of millions of events never sits in memory whole.
    const body = Readable.from(
      (function* () {
        if (format === 'csv') yield `${CSV_HEADER}\n`;
        for (const rows of pages) yield rows.map((r) => (format === 'csv' ? csvRows(r) : `${JSON.stringify(r)}\n`)).join('');
      })(),
    );
    void reply.header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    return reply.send(body);
  }

  /** Range, counts per scope, chain heads and the SHA-256 of the NDJSON and CSV exports of the same range. */
  @Get('export/manifest')
  @Roles('admin', 'auditor')
  async manifest(@Query() q: Q, @Req() req: AppRequest) {
    this.requirePii(req);
    await this.ryw.settle();
    const range = this.range(q);
    const ndjson = createHash('sha256');
    const csv = createHash('sha256').update(`${CSV_HEADER}\n`);
    const counts: Record<string, number> = {};
    const heads: Record<string, string> = {};
    let events = 0;
    for (const rows of this.audit.range(range.from, range.to)) {
      for (const r of rows) {
        ndjson.update(`${JSON.stringify(r)}\n`);
        csv.update(csvRows(r));
        counts[r.scope] = (counts[r.scope] ?? 0) + 1;
        heads[r.scope] = r.hash;
        events++;
      }
    }
    return { fromPosition: String(range.from), toPosition: String(range.to), events, counts, heads, eventsSha256: ndjson.digest('hex'), csvSha256: csv.digest('hex') };
  }

  @Get('keys')
  @Roles('admin', 'auditor', 'support')
  keys() {
    return this.signing.publicKeys();
  }

  @Get('checkpoints')
  @Roles('admin', 'auditor')
  async checkpoints() {
    await this.ryw.settle();
    return this.audit.checkpoints();
  }

  /**
   * Re-verifies the stored log now: every hash, every link, every checkpoint signature. The
   * same checks an auditor runs offline on an export, here for the console's status line.
   */
  @Get('verification')
  @Roles('admin', 'auditor')
  async verification() {
    await this.ryw.settle();
    const audit = this.audit;
    const checkpoints = audit.checkpoints();
    const positions = new Set(checkpoints.map((c) => c.position));
    const verifier = new ChainVerifier();
    for (const rows of audit.range(0, Number.MAX_SAFE_INTEGER)) if (!verifier.add(rows, (p) => positions.has(p))) break;
    const keys = await this.signing.publicKeys();
    verifier.checkpoints(checkpoints, Object.fromEntries(keys.map((k) => [k.keyId, k.publicKeyPem])));
    return { ...verifier.verdict(checkpoints.length), checkedAt: new Date().toISOString() };
  }

  @Post('checkpoints')
  @HttpCode(201)
  async checkpoint() {
    return this.signing.checkpointNow();
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

  private get audit() {
    return this.runner.handle<AuditHandle>('audit');
  }
}

const CSV_HEADER = 'event_id,position,recorded_at,occurred_at,type,scope,actor_kind,actor_token_id,target_type,target_id,outcome,change_path,change_from,change_to';

function csvRows(r: ChainedEnvelope): string {
  const actor = r.actor as { kind?: string; tokenId?: string };
  const base = [r.id, r.position, r.recordedAt, r.occurredAt, r.type, r.scope, actor.kind ?? '', actor.tokenId ?? '', r.target.type, r.target.id, r.outcome];
  const changes = r.changes.length ? r.changes : [{ path: '', from: undefined, to: undefined }];
  return changes.map((c) => [...base, c.path, json(c.from), json(c.to)].map(cell).join(',') + '\n').join('');
}

function json(v: unknown): string {
  return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** RFC 4180 quoting; a leading = + - @ is neutralised so spreadsheets never run a cell. */
function cell(v: string): string {
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

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
