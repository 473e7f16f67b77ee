import type { RecordedEvent } from '@app/event-store';
import type { ReadModelDb } from './read-model-db.port';

/** Maps a projection's logical table name to the physical table of one generation. */
export type TableNamer = (logical: string) => string;

/** What a projection gives the runner for one generation of its tables. */
export interface ProjectionHandle {
  /** Applies one event. Runs inside the runner's transaction; must not do I/O outside the database. */
  apply(event: RecordedEvent): void;
}

/**
 * A read model fed from the log. Each generation lives in its own tables so that a rebuild
 * can fill fresh tables while the current generation keeps serving, then switch atomically.
 */
export interface Projection<H extends ProjectionHandle = ProjectionHandle> {
  readonly name: string;
  /** Bump to rebuild from position 0 on the next start. */
  readonly version: number;
  /** Logical table names; physical names come from the `TableNamer`. */
  readonly tables: readonly string[];
  /** Event types the projection reads; omitted means every event. */
  readonly eventTypes?: readonly string[];
  /** Creates one generation's tables and indexes. */
  create(db: ReadModelDb, t: TableNamer): void;
  /** Binds statements to one generation's tables; the handle also carries the query methods. */
  open(db: ReadModelDb, t: TableNamer): H;
}

export function tableNamer(projection: Pick<Projection, 'tables'>, generation: number): TableNamer {
  return (logical: string) => {
    if (!projection.tables.includes(logical)) throw new Error(`Unknown table ${logical}`);
    return `${logical}__g${generation}`;
  };
}
