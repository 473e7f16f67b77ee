import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { CLOCK, type Clock, InvalidCommand } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { CSV_HEADER, csvText } from './audit-csv';
import { recordAuditExported, requirePii } from './audit-exported';
import type { AuditHandle } from './audit.projection';
import { auditRange, type RangeParams, yieldToEventLoop } from './audit-params';
import { AuditSigningService } from './audit-signing.service';
import { type AuditBundleStart, type AuditExport, ExportAuditLogCommand, SignCheckpointsCommand, StartAuditBundleCommand } from './audit.commands';
import { ManifestBuilder, ndjsonLine, sortCheckpoints } from './bundle';
import type { SignedCheckpoint } from './checkpoint';

/**
 * Streams the range a page at a time from the database, giving the event loop back between
 * pages: an export of millions of events neither sits in memory nor stalls other requests.
 */
@CommandHandler(ExportAuditLogCommand)
export class ExportAuditLogHandler implements ICommandHandler<ExportAuditLogCommand, AuditExport> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ params: q, pii, ctx }: ExportAuditLogCommand): Promise<AuditExport> {
    requirePii(pii);
    const format = (q.format ?? 'ndjson').toLowerCase();
    if (format !== 'ndjson' && format !== 'csv') throw new InvalidCommand('format must be ndjson or csv', 'format');
    await this.ryw.settle();
    const audit = this.runner.handle<AuditHandle>('audit');
    const range = auditRange(audit, q);
    await recordAuditExported(this.store, ctx, this.clock.now().toISOString(), { format, since: q.since ?? null, until: q.until ?? null, fromPosition: range.from, toPosition: range.to });
    const chunks = (async function* () {
      if (format === 'csv') yield `${CSV_HEADER}\n`;
      for (const rows of audit.range(range.from, range.to)) {
        let text = '';
        for (const r of rows) text += format === 'csv' ? csvText(r) : ndjsonLine(r);
        yield text;
        await yieldToEventLoop();
      }
    })();
    return { format, chunks };
  }
}

/**
 * Starts an export bundle: fixes the range, signs a fresh checkpoint at the last record of each
 * scope inside it, and answers the signed manifest (range, every scope that exists with its count
 * and edge hashes, the checkpoints, the SHA-256 of every file) with the checkpoints and public
 * keys to write beside it. The events themselves are then downloaded with an export of
 * `fromPosition`..`toPosition`, and must match the signed digests.
 */
@CommandHandler(StartAuditBundleCommand)
export class StartAuditBundleHandler implements ICommandHandler<StartAuditBundleCommand, AuditBundleStart> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly signing: AuditSigningService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ params: q, body, pii, ctx }: StartAuditBundleCommand): Promise<AuditBundleStart> {
    requirePii(pii);
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    // The body wins; the same names are accepted as query parameters.
    const param = (name: keyof RangeParams) => {
      const v = b[name] ?? q[name];
      if (v !== undefined && typeof v !== 'string') throw new InvalidCommand(`${name} must be a string`, name);
      return v;
    };
    const since = param('since');
    const until = param('until');
    await this.ryw.settle();
    const audit = this.runner.handle<AuditHandle>('audit');
    const range = auditRange(audit, { since, until, fromPosition: param('fromPosition'), toPosition: param('toPosition') });
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
      builder.build({ fromPosition: String(range.from), toPosition: String(range.to), createdAt: this.clock.now().toISOString(), emptyScopes, checkpoints, keys, signingKey: keys[0] }),
    );
    await recordAuditExported(this.store, ctx, this.clock.now().toISOString(), { format: 'bundle', since: since ?? null, until: until ?? null, fromPosition: range.from, toPosition: range.to });
    return { manifest, checkpoints, keys };
  }
}

@CommandHandler(SignCheckpointsCommand)
export class SignCheckpointsHandler implements ICommandHandler<SignCheckpointsCommand, SignedCheckpoint[]> {
  constructor(private readonly signing: AuditSigningService) {}

  execute(): Promise<SignedCheckpoint[]> {
    return this.signing.checkpointNow();
  }
}

export const AUDIT_COMMAND_HANDLERS = [ExportAuditLogHandler, StartAuditBundleHandler, SignCheckpointsHandler];
