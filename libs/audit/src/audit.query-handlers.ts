import { Inject, Optional } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock, InvalidCommand } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { maskEnvelope } from './audit-envelope';
import { compileAuditFilter } from './audit-filter';
import type { AuditHandle, ChainedEnvelope } from './audit.projection';
import { AUDIT_NAMES, type AuditNames } from './audit-names.port';
import { AUDIT_RECORD_OPENER, type AuditRecordOpener } from './audit-record-opener.port';
import { auditTime, decodeCursor, encodeCursor, yieldToEventLoop } from './audit-params';
import { AuditSigningService } from './audit-signing.service';
import {
  AuditCheckpointsQuery,
  AuditEventsQuery,
  type AuditEventsPage,
  AuditHeadsQuery,
  AuditKeysQuery,
  AuditVerificationQuery,
  type ChainHead,
  ProvisioningHealthQuery,
  type Verification,
} from './audit.queries';
import type { PublicKeyEntry } from './bundle';
import { ChainVerifier } from './chain-verifier';
import type { SignedCheckpoint } from './checkpoint';
import { healthReport, type HealthReport, healthWindow } from './provisioning-health';

function auditOf(runner: ProjectionRunner): AuditHandle {
  return runner.handle<AuditHandle>('audit');
}

/** Masked for readers without `pii`: ids stay, personal values become "***"; the chain fields stay. */
export function forReader(rows: readonly ChainedEnvelope[], pii: boolean): ChainedEnvelope[] {
  return pii ? [...rows] : rows.map((r) => ({ ...maskEnvelope(r), seq: r.seq, prevHash: r.prevHash, hash: r.hash }));
}

@QueryHandler(AuditEventsQuery)
export class AuditEventsHandler implements IQueryHandler<AuditEventsQuery, AuditEventsPage> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(AUDIT_NAMES) private readonly names: AuditNames,
    @Optional() @Inject(AUDIT_RECORD_OPENER) private readonly opener?: AuditRecordOpener,
  ) {}

  async execute({ params: q, pii }: AuditEventsQuery): Promise<AuditEventsPage> {
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidCommand('limit must be an integer from 1 to 1000', 'limit');
    const descending = (q.sortOrder ?? 'ascending').toLowerCase() === 'descending';
    const after = q.after !== undefined ? decodeCursor(q.after) : undefined;
    await this.ryw.settle();
    const rows = auditOf(this.runner).query({
      ...(q.since ? { sinceMs: auditTime(q.since, 'since') } : {}),
      ...(q.until ? { untilMs: auditTime(q.until, 'until') } : {}),
      ...(q.filter ? { where: compileAuditFilter(q.filter) } : {}),
      ...(q.q ? { q: q.q } : {}),
      // Personal values find people only for readers who may see them: for the others `q` would
      // answer "does anyone hold this email?" through the masked records.
      ...(q.q && pii ? { qHolders: this.names.holdersOf(q.q) } : {}),
      ...(after !== undefined ? { after } : {}),
      descending,
      limit,
    });
    // A `pii` reader sees personal fields opened (plaintext of live people, markers of erased ones).
    const records = pii && this.opener ? (await this.opener.openAll(rows)).map((r, i) => ({ ...r, seq: rows[i].seq, prevHash: rows[i].prevHash, hash: rows[i].hash })) : forReader(rows, pii);
    // Without `until` the query is a live feed: there is always a next page to poll.
    if (rows.length !== limit && q.until !== undefined) return { records };
    const last = rows.length ? Number(rows[rows.length - 1].position) : after;
    return { records, next: last !== undefined ? { after: encodeCursor(last) } : {} };
  }
}

@QueryHandler(AuditHeadsQuery)
export class AuditHeadsHandler implements IQueryHandler<AuditHeadsQuery, ChainHead[]> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  async execute(): Promise<ChainHead[]> {
    await this.ryw.settle();
    return auditOf(this.runner)
      .heads()
      .map((h) => ({ scope: h.scope, position: String(h.position), count: h.count, hash: h.hash }))
      .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }
}

@QueryHandler(AuditCheckpointsQuery)
export class AuditCheckpointsHandler implements IQueryHandler<AuditCheckpointsQuery, SignedCheckpoint[]> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  async execute(): Promise<SignedCheckpoint[]> {
    await this.ryw.settle();
    return auditOf(this.runner).checkpoints();
  }
}

@QueryHandler(AuditKeysQuery)
export class AuditKeysHandler implements IQueryHandler<AuditKeysQuery, PublicKeyEntry[]> {
  constructor(private readonly signing: AuditSigningService) {}

  execute(): Promise<PublicKeyEntry[]> {
    return this.signing.publicKeys();
  }
}

/**
 * The same checks an auditor runs offline on an export, here for the console's status line, a
 * page at a time with the event loop given back in between.
 */
@QueryHandler(AuditVerificationQuery)
export class AuditVerificationHandler implements IQueryHandler<AuditVerificationQuery, Verification> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly signing: AuditSigningService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(): Promise<Verification> {
    await this.ryw.settle();
    const audit = auditOf(this.runner);
    const checkpoints = audit.checkpoints();
    const positions = new Set(checkpoints.map((c) => c.position));
    const verifier = new ChainVerifier();
    for (const rows of audit.range(0, Number.MAX_SAFE_INTEGER)) {
      if (!verifier.add(rows, (p) => positions.has(p))) break;
      await yieldToEventLoop();
    }
    const keys = await this.signing.publicKeys();
    verifier.checkpoints(checkpoints, Object.fromEntries(keys.map((k) => [k.keyId, k.publicKeyPem])));
    return { ...verifier.verdict(checkpoints.length), checkedAt: this.clock.now().toISOString() };
  }
}

@QueryHandler(ProvisioningHealthQuery)
export class ProvisioningHealthHandler implements IQueryHandler<ProvisioningHealthQuery, HealthReport> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(AUDIT_NAMES) private readonly names: AuditNames,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ params }: ProvisioningHealthQuery): Promise<HealthReport> {
    const w = healthWindow(params, this.clock.now().getTime());
    await this.ryw.settle();
    return healthReport(auditOf(this.runner).health(w.sinceMs, w.untilMs, w.bucketMs), w, this.names);
  }
}

export const AUDIT_QUERY_HANDLERS = [AuditEventsHandler, AuditHeadsHandler, AuditCheckpointsHandler, AuditKeysHandler, AuditVerificationHandler, ProvisioningHealthHandler];
