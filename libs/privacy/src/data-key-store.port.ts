import type { Database } from 'better-sqlite3';

/** What the key store knows of one person. */
export type KeyLookup = { readonly state: 'live'; readonly key: Buffer } | { readonly state: 'erased' } | { readonly state: 'none' };

/** One row of a key table: the wrapped key, or null once erased (the tombstone stays). */
export interface KeyRow {
  readonly personId: string;
  readonly wrapped: Buffer | null;
  /** Which master key wrapped it (a hash prefix), so a rotation finds what it must rewrap. */
  readonly masterId: string;
}

/**
 * Where wrapped data keys live, outside the log: a table that really deletes. The SQLite
 * backend is synchronous underneath (better-sqlite3); PostgreSQL's is not, so reads that must
 * be synchronous (a projection opening an event) use what `load` put in memory.
 */
export interface KeyTable {
  /** A remote table (connections to close on shutdown); the embedded one closes with the process. */
  readonly shared?: boolean;
  get(personId: string): Promise<KeyRow | undefined>;
  /** Synchronous read, when the backend can (SQLite). */
  getSync?(personId: string): KeyRow | undefined;
  getMany(personIds: readonly string[]): Promise<KeyRow[]>;
  /** Inserts unless a row (live or tombstone) exists; returns the row that is there now. */
  insertIfAbsent(row: KeyRow): Promise<KeyRow>;
  /** `insertIfAbsent` of many rows in one commit, when the backend can: the rows there now, in order. */
  insertManyIfAbsent?(rows: readonly KeyRow[]): Promise<KeyRow[]>;
  /** Replaces the wrapped key by nothing: the key is gone, the tombstone stays. */
  tombstone(personId: string): Promise<boolean>;
  rewrap(personId: string, wrapped: Buffer, masterId: string): Promise<void>;
  /** Every row wrapped under a master other than `masterId`. */
  wrappedUnderOther(masterId: string): Promise<KeyRow[]>;
  close(): Promise<void>;
}

/** The SQLite handle the embedded key table needs (its own file, opened by the composition root). */
export type KeyDb = Pick<Database, 'prepare' | 'exec' | 'pragma' | 'close' | 'transaction'>;

/** The PostgreSQL client the shared key table needs (a `pg` pool satisfies it). */
export interface KeySql {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  end(): Promise<void>;
}
