import { randomBytes } from 'node:crypto';
import { StoreUnavailableError } from '@app/event-store';
import { KEY_BYTES } from './data-key.cipher';
import type { KeyRow, KeySql, KeyTable } from './data-key-store.port';

const toRow = (r: Record<string, unknown>): KeyRow => ({
  personId: r.person_id as string,
  wrapped: (r.wrapped as Buffer | null) ?? null,
  masterId: r.master_id as string,
});

/** The row that holds a generated master key when none is configured (see `sharedMaster`). */
const MASTER_ROW = '$master';
/** The row that holds the identifier hash key of a shared store (NULL: plain SHA-256 names). */
const IDENTIFIER_ROW = '$identifier';

/**
 * The shared key table on PostgreSQL: one table beside the log's, so every instance seals and
 * opens with the same keys. An erased key is an UPDATE to NULL; VACUUM reclaims the old tuple
 * (the README says so: until then the bytes sit in a dead tuple of this table only). The
 * table is created on first use, so a server whose database is down still starts (and 503s).
 */
export class PostgresKeyTable implements KeyTable {
  readonly shared = true;
  private ready?: Promise<void>;

  constructor(private readonly sql: KeySql) {}

  /** Kept for callers that want the table at once. */
  static async open(sql: KeySql): Promise<PostgresKeyTable> {
    const table = new PostgresKeyTable(sql);
    await table.ensure();
    return table;
  }

  async get(personId: string): Promise<KeyRow | undefined> {
    const { rows } = await this.query('SELECT person_id, wrapped, master_id FROM scim_data_keys WHERE person_id = $1', [personId]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async getMany(personIds: readonly string[]): Promise<KeyRow[]> {
    if (personIds.length === 0) return [];
    const { rows } = await this.query('SELECT person_id, wrapped, master_id FROM scim_data_keys WHERE person_id = ANY($1)', [personIds]);
    return rows.map(toRow);
  }

  async insertIfAbsent(row: KeyRow): Promise<KeyRow> {
    await this.query('INSERT INTO scim_data_keys (person_id, wrapped, master_id) VALUES ($1, $2, $3) ON CONFLICT (person_id) DO NOTHING', [row.personId, row.wrapped, row.masterId]);
    return (await this.get(row.personId)) as KeyRow;
  }

  /** One statement for a batch of new persons; the rows already there (a key, a tombstone) are read back. */
  async insertManyIfAbsent(rows: readonly KeyRow[]): Promise<KeyRow[]> {
    const { rows: inserted } = await this.query(
      'INSERT INTO scim_data_keys (person_id, wrapped, master_id) SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[]) ON CONFLICT (person_id) DO NOTHING RETURNING person_id',
      [rows.map((r) => r.personId), rows.map((r) => r.wrapped), rows.map((r) => r.masterId)],
    );
    const ours = new Set(inserted.map((r) => r.person_id as string));
    const there = new Map((await this.getMany(rows.filter((r) => !ours.has(r.personId)).map((r) => r.personId))).map((r) => [r.personId, r]));
    return rows.map((r) => (ours.has(r.personId) ? r : (there.get(r.personId) as KeyRow)));
  }

  async tombstone(personId: string): Promise<boolean> {
    const r = await this.query('UPDATE scim_data_keys SET wrapped = NULL, erased_at = now() WHERE person_id = $1 AND erased_at IS NULL', [personId]);
    return (r.rowCount ?? 0) > 0;
  }

  async rewrap(personId: string, wrapped: Buffer, masterId: string): Promise<void> {
    await this.query('UPDATE scim_data_keys SET wrapped = $1, master_id = $2 WHERE person_id = $3 AND wrapped IS NOT NULL', [wrapped, masterId, personId]);
  }

  async wrappedUnderOther(masterId: string): Promise<KeyRow[]> {
    const { rows } = await this.query(`SELECT person_id, wrapped, master_id FROM scim_data_keys WHERE master_id <> $1 AND wrapped IS NOT NULL AND person_id NOT IN ('${MASTER_ROW}', '${IDENTIFIER_ROW}')`, [masterId]);
    return rows.map(toRow);
  }

  /**
   * A master key every instance shares, kept in this table, for deployments that configure
   * none (DATA_KEY_MASTER): erasure still works (the data key goes), but a dump of the database
   * then holds what opens the live keys. The README says to configure one in production.
   */
  async sharedMaster(): Promise<Buffer> {
    await this.query(`INSERT INTO scim_data_keys (person_id, wrapped, master_id) VALUES ('${MASTER_ROW}', $1, 'unwrapped') ON CONFLICT (person_id) DO NOTHING`, [randomBytes(KEY_BYTES)]);
    const { rows } = await this.query(`SELECT wrapped FROM scim_data_keys WHERE person_id = '${MASTER_ROW}'`);
    return rows[0].wrapped as Buffer;
  }

  /**
   * The identifier hash key every instance shares (reservation names): made with the first
   * start on a log without reservations; a log that already holds reservations under plain
   * SHA-256 names keeps them (NULL). `migrate-log` brings the embedded store's key here.
   */
  async sharedIdentifierKey(logHasReservations: () => Promise<boolean>): Promise<Buffer | null> {
    let { rows } = await this.query(`SELECT wrapped FROM scim_data_keys WHERE person_id = '${IDENTIFIER_ROW}'`);
    if (rows.length === 0) {
      await this.setShared('identifier', (await logHasReservations()) ? null : randomBytes(KEY_BYTES));
      ({ rows } = await this.query(`SELECT wrapped FROM scim_data_keys WHERE person_id = '${IDENTIFIER_ROW}'`));
    }
    return (rows[0].wrapped as Buffer | null) ?? null;
  }

  /** Sets a shared key row unless it is there already (`migrate-log`, first start). */
  async setShared(which: 'master' | 'identifier', value: Buffer | null): Promise<void> {
    await this.query(`INSERT INTO scim_data_keys (person_id, wrapped, master_id) VALUES ($1, $2, 'unwrapped') ON CONFLICT (person_id) DO NOTHING`, [
      which === 'master' ? MASTER_ROW : IDENTIFIER_ROW,
      value,
    ]);
  }

  close(): Promise<void> {
    return this.sql.end();
  }

  private ensure(): Promise<void> {
    this.ready ??= this.sql
      .query('CREATE TABLE IF NOT EXISTS scim_data_keys (person_id TEXT PRIMARY KEY, wrapped BYTEA, master_id TEXT NOT NULL, erased_at TIMESTAMPTZ)')
      .then(
        () => undefined,
        (err: unknown) => {
          // Instances starting together on a fresh database race to create the table, and
          // CREATE TABLE IF NOT EXISTS is not safe against a concurrent one: the loser gets a
          // unique violation (pg_type) or duplicate_table, and the table is there all the same.
          const code = (err as { code?: string }).code;
          if (code === '23505' || code === '42P07') return;
          this.ready = undefined;
          throw err;
        },
      );
    return this.ready;
  }

  private async query(sql: string, params?: unknown[]) {
    try {
      await this.ensure();
      return await this.sql.query(sql, params);
    } catch (err) {
      // Whatever failed, the keys are out of reach: the request is a 503, as for the log itself.
      throw new StoreUnavailableError(`data key store: ${(err as Error).message}`, err);
    }
  }
}
