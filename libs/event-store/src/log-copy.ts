import type { EventStore, RecordedEvent } from './event-store.port';

/** A store that can take another store's events verbatim (positions and recorded times kept). */
export interface LogImportTarget {
  importRecorded(events: readonly RecordedEvent[], after: bigint): Promise<{ inserted: number }>;
}

export interface LogCopyResult {
  /** Events read from the source (its whole log). */
  readonly events: number;
  /** Events the target did not hold yet (0 on a re-run over a finished copy). */
  readonly inserted: number;
  /** The source's last position, or -1n for an empty log. */
  readonly head: bigint;
}

/**
 * Copies a whole log, in position order, one batch per target transaction. Reading the source
 * through the port keeps the copy independent of its adapter; the target keeps positions, so
 * global and per-stream order, and everything that names a position, survive the move.
 */
export async function copyLog(
  source: Pick<EventStore, 'readAll'>,
  target: LogImportTarget,
  options: { batchSize?: number; onProgress?: (copied: number, position: bigint) => void } = {},
): Promise<LogCopyResult> {
  const batchSize = options.batchSize ?? 2000;
  let after = -1n;
  let events = 0;
  let inserted = 0;
  for (;;) {
    const batch = await source.readAll({ fromPosition: after + 1n, maxCount: batchSize });
    if (batch.length === 0) break;
    inserted += (await target.importRecorded(batch, after)).inserted;
    events += batch.length;
    after = batch[batch.length - 1].position;
    options.onProgress?.(events, after);
  }
  return { events, inserted, head: after };
}
