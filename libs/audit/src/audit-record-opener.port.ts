import type { AuditEnvelope } from './audit-envelope';

/**
 * Opens the sealed personal fields of audit records for readers granted `pii` (the composition
 * root binds it to the data keys). The chain and exports keep the stored (sealed) form; an
 * erased person's records keep their ciphertext markers.
 */
export interface AuditRecordOpener {
  openAll(records: readonly AuditEnvelope[]): Promise<AuditEnvelope[]>;
}
export const AUDIT_RECORD_OPENER = Symbol('AUDIT_RECORD_OPENER');
