import { join } from 'node:path';
import { Logger, type Provider } from '@nestjs/common';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AUDIT_RECORD_OPENER, type AuditEnvelope, type AuditRecordOpener, withData } from '@app/audit';
import type { AppConfig } from '@app/config';
import type { RecordedEvent } from '@app/event-store';
import type { SqliteDb } from '@app/event-store/adapters';
import { DataKeyStore, ERASURE_HOUSEKEEPING, ERASURE_KEEPS_UNIQUE_VALUES, type ErasureHousekeeping, type KeyTable, loadMasterKey, PersonalDataSealer, PostgresKeyTable, SqliteKeyTable } from '@app/privacy';
import { SQLITE_DB } from './tokens';

/**
 * Where the data keys live: never in the log. PostgreSQL: a table beside the log's, shared by
 * the instances. Embedded and EventStoreDB: `DATA_DIR/data-keys.db` (on EventStoreDB, set
 * DATA_KEYS_DATABASE_URL to share a PostgreSQL key table between instances; see the README).
 */
async function openKeyTable(config: AppConfig): Promise<KeyTable> {
  const url = config.eventStore === 'postgres' ? config.databaseUrl : process.env.DATA_KEYS_DATABASE_URL;
  if (url !== undefined) {
    const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'scim-data-keys' });
    pool.on('error', () => undefined);
    return PostgresKeyTable.open({ query: (sql, params) => pool.query(sql, params), end: () => pool.end() });
  }
  return new SqliteKeyTable(new Database(join(config.dataDir, 'data-keys.db')));
}

export function dataKeyProviders(config: AppConfig): Provider[] {
  return [
    {
      provide: DataKeyStore,
      useFactory: async () => {
        const master = loadMasterKey(config.dataDir);
        const keys = new DataKeyStore(await openKeyTable(config), master.current, master.previous);
        const rewrapped = await keys.rewrapFromPrevious();
        if (rewrapped > 0) new Logger('privacy').log(`rewrapped ${rewrapped} data keys under the new master key`);
        return keys;
      },
    },
    { provide: PersonalDataSealer, inject: [DataKeyStore], useFactory: (keys: DataKeyStore) => new PersonalDataSealer(keys) },
    {
      provide: AUDIT_RECORD_OPENER,
      inject: [PersonalDataSealer],
      useFactory: (sealer: PersonalDataSealer): AuditRecordOpener => ({
        async openAll(records: readonly AuditEnvelope[]) {
          const events = records.map((r): RecordedEvent => ({ id: r.id, streamId: r.stream, type: r.type, data: r.data, revision: 0n, position: 0n, metadata: {}, recordedAt: new Date(0) }));
          await sealer.load(events);
          return records.map((r, i) => {
            const opened = sealer.open(events[i]);
            return opened.state === 'live' && opened.event !== events[i] ? withData(r, opened.event.data) : r;
          });
        },
      }),
    },
    { provide: ERASURE_KEEPS_UNIQUE_VALUES, useValue: process.env.ERASURE_KEEPS_UNIQUE_VALUES === 'true' },
    {
      provide: ERASURE_HOUSEKEEPING,
      inject: [SQLITE_DB],
      useFactory: (db: SqliteDb): ErasureHousekeeping => ({
        // The WAL still holds the pages the erased rows lived on: copy them back and cut it to
        // zero, so the freed (and zeroed, secure_delete) pages are all that remains.
        afterErasure: () => {
          db.pragma('wal_checkpoint(TRUNCATE)');
          return Promise.resolve();
        },
      }),
    },
  ];
}
