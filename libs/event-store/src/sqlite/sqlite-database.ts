import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteDatabaseOptions {
  /** File path, or ':memory:' for tests. */
  readonly filename: string;
  /**
   * NORMAL (default) survives a process crash (kill -9) in WAL mode; FULL also survives
   * an operating system crash or power loss, at the cost of an fsync per commit.
   */
  readonly synchronous?: SqliteSynchronous;
}

/**
 * One connection to one SQLite file, shared by the event store and the read models that
 * live beside it, so that a projection can write its rows and its checkpoint in the same
 * transaction as it reads (exactly-once). better-sqlite3 is synchronous: one connection
 * serialises every statement on the event loop, which is what makes `BEGIN IMMEDIATE`
 * transactions cheap and gap-free positions possible.
 */
export function openSqliteDatabase(options: SqliteDatabaseOptions): Database.Database {
  if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
  const db = new Database(options.filename);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Read models and the log share the page cache. 32 MiB keeps the hot index pages resident;
  // the rest of the file stays in the OS page cache (a miss is a pread, not a disk read), and
  // the server's memory stays within its budget at 100,000 users.
  db.pragma('cache_size = -32768');
  db.pragma('temp_store = MEMORY');
  return db;
}

export type SqliteDb = Database.Database;
