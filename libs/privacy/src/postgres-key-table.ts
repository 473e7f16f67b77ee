import type { KeyRow, KeySql, KeyTable } from './data-key-store.port';

const toRow = (r: Record<string, unknown>): KeyRow => ({
  personId: r.person_id as string,
  wrapped: (r.wrapped as Buffer | null) ?? null,
  masterId: r.master_id as string,
});

/**
 * The shared key table on PostgreSQL: one table beside the log's, so every instance seals and
 * opens with the same keys. An erased key is an UPDATE to NULL; VACUUM reclaims the old tuple
 * (the README says so: until then the bytes sit in a dead tuple of this table only).
 */
export class PostgresKeyTable implements KeyTable {
  private constructor(private readonly sql: KeySql) {}

  static async open(sql: KeySql): Promise<PostgresKeyTable> {
    await sql.query(
      `CREATE TABLE IF NOT EXISTS scim_data_keys (person_id TEXT PRIMARY KEY, wrapped BYTEA, master_id TEXT NOT NULL, erased_at TIMESTAMPTZ)`,
    );
    return new PostgresKeyTable(sql);
  }

  async get(personId: string): Promise<KeyRow | undefined> {
    const { rows } = await this.sql.query('SELECT person_id, wrapped, master_id FROM scim_data_keys WHERE person_id = $1', [personId]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async getMany(personIds: readonly string[]): Promise<KeyRow[]> {
    if (personIds.length === 0) return [];
    const { rows } = await this.sql.query('SELECT person_id, wrapped, master_id FROM scim_data_keys WHERE person_id = ANY($1)', [personIds]);
    return rows.map(toRow);
  }

  async insertIfAbsent(row: KeyRow): Promise<KeyRow> {
    await this.sql.query('INSERT INTO scim_data_keys (person_id, wrapped, master_id) VALUES ($1, $2, $3) ON CONFLICT (person_id) DO NOTHING', [
      row.personId,
      row.wrapped,
      row.masterId,
    ]);
    return (await this.get(row.personId)) as KeyRow;
  }

  async tombstone(personId: string): Promise<boolean> {
    const r = await this.sql.query('UPDATE scim_data_keys SET wrapped = NULL, erased_at = now() WHERE person_id = $1 AND erased_at IS NULL', [personId]);
    return (r.rowCount ?? 0) > 0;
  }

  async rewrap(personId: string, wrapped: Buffer, masterId: string): Promise<void> {
    await this.sql.query('UPDATE scim_data_keys SET wrapped = $1, master_id = $2 WHERE person_id = $3 AND wrapped IS NOT NULL', [wrapped, masterId, personId]);
  }

  async wrappedUnderOther(masterId: string): Promise<KeyRow[]> {
    const { rows } = await this.sql.query('SELECT person_id, wrapped, master_id FROM scim_data_keys WHERE master_id <> $1 AND wrapped IS NOT NULL', [masterId]);
    return rows.map(toRow);
  }

  close(): Promise<void> {
    return this.sql.end();
  }
}
