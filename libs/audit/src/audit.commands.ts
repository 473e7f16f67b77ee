import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '@app/identity';
import type { RangeParams } from './audit-params';
import type { PublicKeyEntry, SignedManifest } from './bundle';
import type { SignedCheckpoint } from './checkpoint';

/*
 * Exports hold personal data, so they need `pii`, and each is recorded as `AuditExported`
 * (who exported which range, in which format) in the log it exports from.
 */

export interface ExportParams extends RangeParams {
  /** ndjson (default) or csv. */
  readonly format?: string;
}

export interface AuditExport {
  readonly format: 'ndjson' | 'csv';
  /** The file's text, a page of records at a time, in log order. */
  readonly chunks: AsyncIterable<string>;
}

export interface AuditBundleStart {
  readonly manifest: SignedManifest;
  readonly checkpoints: SignedCheckpoint[];
  readonly keys: PublicKeyEntry[];
}

/** Stream a contiguous range as NDJSON (canonical chained records) or CSV. */
export class ExportAuditLogCommand extends Command<AuditExport> {
  constructor(
    readonly params: ExportParams,
    readonly pii: boolean,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

/** Fix a range, sign checkpoints at its edges, and answer the signed bundle manifest. */
export class StartAuditBundleCommand extends Command<AuditBundleStart> {
  constructor(
    readonly params: RangeParams,
    /** The request body; its range fields win over the query's. */
    readonly body: unknown,
    readonly pii: boolean,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

/** Sign a checkpoint at the head of every scope that moved since its last one. */
export class SignCheckpointsCommand extends Command<SignedCheckpoint[]> {}
