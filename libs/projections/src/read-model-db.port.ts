import type { Database, Statement } from 'better-sqlite3';

/**
 * The read models' database: SQLite tables whichever store holds the log (on the embedded
 * store the log's own file, elsewhere a local file per instance), so the port is the SQL
 * surface projections and the runner use, which a better-sqlite3 connection satisfies.
 * Naming only these three keeps read models from reaching for the connection's lifecycle
 * (close, pragmas, functions), which belongs to the composition root.
 */
export type ReadModelDb = Pick<Database, 'prepare' | 'exec' | 'transaction'>;

/** A prepared statement on the read models' database (what `ReadModelDb.prepare` returns). */
export type ReadModelStatement<Params extends unknown[] = unknown[], Result = unknown> = Statement<Params, Result>;
