import { type EventStore, type JsonObject, timeOrderedId } from '@app/event-store';
import { type CommandContext, eventMetadata, Forbidden } from '@app/identity';

/** The instance stream every `AuditExported` goes to. */
export const AUDIT_EXPORTS_STREAM = 'audit-exports';

export interface AuditExportedData {
  readonly format: 'ndjson' | 'csv' | 'bundle';
  readonly since: string | null;
  readonly until: string | null;
  readonly fromPosition: number;
  readonly toPosition: number;
}

export async function recordAuditExported(store: EventStore, ctx: CommandContext, occurredAt: string, data: AuditExportedData): Promise<void> {
  await store.append(AUDIT_EXPORTS_STREAM, [{ id: timeOrderedId(), type: 'AuditExported', data: { ...data } as JsonObject, metadata: eventMetadata(ctx, 'instance', occurredAt) }], 'any');
}

/** A verifiable export holds the records exactly as chained: masking would break every hash. */
export function requirePii(pii: boolean): void {
  if (!pii) throw new Forbidden('Exports hold personal data: use an admin token or an auditor token created with "pii": true');
}
