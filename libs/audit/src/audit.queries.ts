import { Query } from '@nestjs/cqrs';
import type { ChainedEnvelope } from './audit.projection';
import type { PublicKeyEntry } from './bundle';
import type { ChainVerdict } from './chain-verifier';
import type { SignedCheckpoint } from './checkpoint';
import type { HealthParams, HealthReport } from './provisioning-health';

/*
 * Reads of the audit log. `pii`: the reader may see personal values (an admin, or an auditor
 * token created with "pii": true); otherwise they are masked.
 */

export interface AuditEventsParams {
  /** Free text: event types, ids, names, emails, externalIds. */
  readonly q?: string;
  /** A SCIM-style filter over the envelope. */
  readonly filter?: string;
  readonly since?: string;
  /** Absent: a live feed. */
  readonly until?: string;
  readonly limit?: string;
  readonly sortOrder?: string;
  /** The cursor of the previous page. */
  readonly after?: string;
}

export interface AuditEventsPage {
  readonly records: ChainedEnvelope[];
  /** Present when there is a next page to ask for (always, on a live feed): the cursor to pass as `after`, if any. */
  readonly next?: { readonly after?: string };
}

export interface ChainHead {
  readonly scope: string;
  readonly position: string;
  readonly count: number;
  readonly hash: string;
}

export type Verification = ChainVerdict & { readonly checkedAt: string };

/** A page of the log (cursor paging; a live feed without `until`). */
export class AuditEventsQuery extends Query<AuditEventsPage> {
  constructor(
    readonly params: AuditEventsParams,
    readonly pii: boolean,
  ) {
    super();
  }
}

/** Where each scope's chain stands now. */
export class AuditHeadsQuery extends Query<ChainHead[]> {}

/** Every signed checkpoint. */
export class AuditCheckpointsQuery extends Query<SignedCheckpoint[]> {}

/** The public keys that sign checkpoints and manifests. */
export class AuditKeysQuery extends Query<PublicKeyEntry[]> {}

/** The stored log re-verified now: every hash, link and checkpoint signature. */
export class AuditVerificationQuery extends Query<Verification> {}

/** Provisioning health per scope and SCIM token over a window. */
export class ProvisioningHealthQuery extends Query<HealthReport> {
  constructor(readonly params: HealthParams) {
    super();
  }
}
