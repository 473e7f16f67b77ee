import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger, type Provider } from '@nestjs/common';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AUDIT_RECORD_OPENER, type AuditEnvelope, type AuditRecordOpener, withData } from '@app/audit';
import type { AppConfig } from '@app/config';
import { type EventStore, type RecordedEvent, StoreUnavailableError } from '@app/event-store';
import { IDENTIFIER_HASH, keyedValueHash, sha256ValueHash, type ValueHash } from '@app/identity';
import type { SqliteDb } from '@app/event-store/adapters';
import { DataKeyStore, ERASURE_HOUSEKEEPING, ERASURE_KEEPS_UNIQUE_VALUES, type ErasureHousekeeping, RAW_EVENT_STORE_FOR_ERASURE, loadMasterKey, masterKeyOf, PersonalDataSealer, PostgresKeyTable, SqliteKeyTable } from '@app/privacy';
import { RAW_EVENT_STORE, SQLITE_DB } from './tokens';

/**
 * Where the data keys live: never in the log. PostgreSQL: a table beside the log's, shared by
 * the instances. Embedded and EventStoreDB: `DATA_DIR/data-keys.db` (on EventStoreDB, set
 * DATA_KEYS_DATABASE_URL to share a PostgreSQL key table between instances; see the README).
 */
function keyTable(config: AppConfig): SqliteKeyTable | PostgresKeyTable {
  const url = config.eventStore === 'postgres' ? config.databaseUrl : process.env.DATA_KEYS_DATABASE_URL;
  // As durable as the log: a sealed event that survives a power loss must find its key.
  if (url === undefined) return new SqliteKeyTable(new Database(join(config.dataDir, 'data-keys.db')), config.sqliteSynchronous);
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'scim-data-keys', connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  return new PostgresKeyTable({ query: (sql, params) => pool.query(sql, params), end: () => pool.end() });
}

/**
 * The master key: DATA_KEY_MASTER, else (embedded) a key file generated on first start. A
 * shared key table without DATA_KEY_MASTER keeps a generated one in the table itself, so
 * every instance uses the same (the README says to configure one instead).
 */
function masterOf(config: AppConfig, table: SqliteKeyTable | PostgresKeyTable) {
  if (process.env.DATA_KEY_MASTER || table instanceof SqliteKeyTable) return loadMasterKey(config.dataDir);
  new Logger('privacy').warn('DATA_KEY_MASTER is not set: the data keys are wrapped by a key kept in the same database (set it in production)');
  return { current: () => table.sharedMaster().then(masterKeyOf), previous: undefined };
}

/**
 * Keyed hashes of identifiers (reservation stream names, an erased person's identifiers):
 * IDENTIFIER_HASH_KEY (base64), else on the embedded store a key file made with a new log. A
 * log that already holds reservations under plain SHA-256 names keeps them (renaming them is
 * not done here: see the README), as does a shared store without IDENTIFIER_HASH_KEY.
 */
function identifierHashKey(config: AppConfig, db: SqliteDb): Buffer | undefined {
  if (config.eventStore !== 'sqlite') return undefined;
  const file = join(config.dataDir, 'identifier-hash.key');
  if (!existsSync(file)) {
    const logIsNew = (db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', 'events') === undefined) || db.prepare('SELECT 1 FROM events LIMIT 1').get() === undefined;
    if (!logIsNew) return undefined;
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}

/**
 * A shared store's identifier hash, loaded from its key table. The server waits for the first
 * attempt before it listens, so a request that comes right after start never finds it missing;
 * a database that is down at start fails that attempt, and the key is then loaded in the
 * background: until it is, a write that needs a reservation name answers 503.
 */
async function lateBound(load: () => Promise<ValueHash>): Promise<ValueHash> {
  let inner: ValueHash | undefined;
  const attempt = (): Promise<void> =>
    load().then(
      (h) => {
        inner = h;
      },
      () => {
        setTimeout(() => void attempt(), 2000).unref();
      },
    );
  await attempt();
  return (folded) => {
    if (!inner) throw new StoreUnavailableError('the identifier key is not loaded yet: the key store is unreachable');
    return inner(folded);
  };
}

export function dataKeyProviders(config: AppConfig): Provider[] {
  return [
    {
      provide: DataKeyStore,
      useFactory: async () => {
        const table = keyTable(config);
        const master = masterOf(config, table);
        const keys = new DataKeyStore(table, master.current, master.previous);
        if (master.previous) {
          const rewrapped = await keys.rewrapFromPrevious();
          new Logger('privacy').log(`master key rotation: rewrapped ${rewrapped} data keys under the new master key`);
        }
        return keys;
      },
    },
    {
      provide: IDENTIFIER_HASH,
      inject: [SQLITE_DB, DataKeyStore, RAW_EVENT_STORE],
      useFactory: async (db: SqliteDb, keys: DataKeyStore, store: EventStore): Promise<ValueHash> => {
        if (process.env.IDENTIFIER_HASH_KEY) return keyedValueHash(Buffer.from(process.env.IDENTIFIER_HASH_KEY, 'base64'));
        const table = keys.keyTable;
        if (!(table instanceof PostgresKeyTable)) {
          const key = identifierHashKey(config, db);
          return key ? keyedValueHash(key) : sha256ValueHash;
        }
        const hasReservations = async () => (await store.readAll({ maxCount: 1, filter: { streamPrefixes: ['unique-'] } })).length > 0;
        return lateBound(async () => {
          const key = await table.sharedIdentifierKey(hasReservations);
          return key ? keyedValueHash(key) : sha256ValueHash;
        });
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
    { provide: RAW_EVENT_STORE_FOR_ERASURE, useExisting: RAW_EVENT_STORE },
    { provide: ERASURE_KEEPS_UNIQUE_VALUES, useValue: process.env.ERASURE_KEEPS_UNIQUE_VALUES === 'true' },
    {
      provide: ERASURE_HOUSEKEEPING,
      inject: [SQLITE_DB],
      useFactory: (db: SqliteDb): ErasureHousekeeping => ({
        // The WAL still holds the pages the erased rows lived on: copy them back and cut it to
        // zero, so the freed (and zeroed, secure_delete) pages are all that remains.
        afterErasure: async () => {
          // The checkpoint worker's own pass, or a reader's snapshot, makes it answer busy: try again, briefly.
          for (let attempt = 0; attempt < 50; attempt++) {
            const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
            if (r.busy === 0) return;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          new Logger('privacy').warn('the WAL could not be cut back after an erasure (busy): the next checkpoint overwrites it');
        },
      }),
    },
  ];
}
