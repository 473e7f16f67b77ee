import type { KeyDb, KeyRow, KeyTable } from './data-key-store.port';

interface RawKeyRow {
  person_id: string;
  wrapped: Buffer | null;
  master_id: string;
}

const toRow = (r: RawKeyRow): KeyRow => ({ personId: r.person_id, wrapped: r.wrapped, masterId: r.master_id });

/**
 * The embedded key table: its own SQLite file, never the log's, so that erasing a key does
 * not leave it in the log's WAL. WAL with the log's `synchronous` mode (NORMAL by default,
 * FULL with SQLITE_SYNCHRONOUS=FULL): a key is committed before the events sealed with it and
 * survives whatever they survive; with NORMAL a new person's key costs no fsync on the request
 * path, with FULL one per batch of new keys (DataKeyStore), not one per person.
 * `secure_delete` zeroes freed content; after a tombstone the WAL is checkpointed and cut to
 * zero, so the old key's page survives in neither file.
 */
export class SqliteKeyTable implements KeyTable {
  private readonly stmts;
  private readonly insertMany: (rows: readonly KeyRow[]) => KeyRow[];

  constructor(
    private readonly db: KeyDb,
    synchronous: 'NORMAL' | 'FULL' = 'NORMAL',
  ) {
    db.pragma('journal_mode = WAL');
    db.pragma('secure_delete = ON');
    db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.exec(`CREATE TABLE IF NOT EXISTS data_keys (person_id TEXT PRIMARY KEY, wrapped BLOB, master_id TEXT NOT NULL, erased_at TEXT)`);
    this.stmts = {
      get: db.prepare<[string], RawKeyRow>('SELECT person_id, wrapped, master_id FROM data_keys WHERE person_id = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO data_keys (person_id, wrapped, master_id) VALUES (?, ?, ?)'),
      // Overwritten with zeros first: secure_delete zeroes freed cells, this zeroes the cell in place too.
      zero: db.prepare('UPDATE data_keys SET wrapped = zeroblob(length(wrapped)) WHERE person_id = ? AND wrapped IS NOT NULL'),
      tombstone: db.prepare(`UPDATE data_keys SET wrapped = NULL, erased_at = strftime('%Y-%m-%dT%H:%M:%fZ') WHERE person_id = ? AND erased_at IS NULL`),
      rewrap: db.prepare('UPDATE data_keys SET wrapped = ?, master_id = ? WHERE person_id = ? AND wrapped IS NOT NULL'),
      other: db.prepare<[string], RawKeyRow>('SELECT person_id, wrapped, master_id FROM data_keys WHERE master_id <> ? AND wrapped IS NOT NULL'),
    };
    // One transaction for the batch: one commit's WAL frames instead of one commit per key.
    this.insertMany = db.transaction((rows: readonly KeyRow[]) =>
      rows.map((r) => (this.stmts.insert.run(r.personId, r.wrapped, r.masterId).changes === 1 ? r : (this.getSync(r.personId) as KeyRow))),
    );
  }

  getSync(personId: string): KeyRow | undefined {
    const r = this.stmts.get.get(personId);
    return r ? toRow(r) : undefined;
  }

  get(personId: string): Promise<KeyRow | undefined> {
    return Promise.resolve(this.getSync(personId));
  }

  getMany(personIds: readonly string[]): Promise<KeyRow[]> {
    return Promise.resolve(personIds.map((id) => this.getSync(id)).filter((r): r is KeyRow => r !== undefined));
  }

  insertIfAbsent(row: KeyRow): Promise<KeyRow> {
    this.stmts.insert.run(row.personId, row.wrapped, row.masterId);
    return Promise.resolve(this.getSync(row.personId) as KeyRow);
  }

  insertManyIfAbsent(rows: readonly KeyRow[]): Promise<KeyRow[]> {
    return Promise.resolve(this.insertMany(rows));
  }

  tombstone(personId: string): Promise<boolean> {
    const done = this.db.transaction(() => {
      this.stmts.zero.run(personId);
      return this.stmts.tombstone.run(personId).changes;
    })();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return Promise.resolve(done > 0);
  }

  rewrap(personId: string, wrapped: Buffer, masterId: string): Promise<void> {
    this.stmts.rewrap.run(wrapped, masterId, personId);
    return Promise.resolve();
  }

  wrappedUnderOther(masterId: string): Promise<KeyRow[]> {
    return Promise.resolve(this.stmts.other.all(masterId).map(toRow));
  }

  /** Every row, tombstones included (`migrate-log` copies them to PostgreSQL). */
  all(): KeyRow[] {
    return (this.db.prepare('SELECT person_id, wrapped, master_id FROM data_keys ORDER BY person_id').all() as RawKeyRow[]).map(toRow);
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
