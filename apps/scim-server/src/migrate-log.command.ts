import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LogImportConflictError, StoreUnavailableError } from '@app/event-store';
import { copyLog, openSqliteDatabase, PostgresEventStore, SqliteEventStore } from '@app/event-store/adapters';
import { publicKeyOf, publishSigningKey, signingKeyFile } from '@app/audit';
import Database from 'better-sqlite3';
import pg from 'pg';
import { masterKeyFile, parseMasterKey, PostgresKeyTable, SqliteKeyTable } from '@app/privacy';

export const MIGRATE_LOG_USAGE = `usage: node dist/apps/scim-server/src/main.js migrate-log --from sqlite:<DATA_DIR> --to postgres

Copies the embedded store's log (DATA_DIR/scim.db) into the PostgreSQL database that
DATABASE_URL names, offline: stop the server first. Every event keeps its id, type, data,
metadata, stream revision, global position and recorded time, so audit chains and signed
checkpoints stay valid; the source's audit signing key is published in the target so its
checkpoints verify on every instance. Re-running it is safe: a finished copy inserts nothing,
a copy of a log that grew since copies the rest. A database that holds other events is refused.
Then start the instances with EVENT_STORE=postgres: they build their read models from the log.

Exit codes: 0 copied, 1 the target holds other events, 2 usage error, 3 a store failed.`;

class UsageError extends Error {}

/** `migrate-log`: an offline command of the server binary (it needs no HTTP, only the two stores). */
export async function runMigrateLog(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let source: SqliteEventStore | undefined;
  let target: PostgresEventStore | undefined;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    });
    if (values.help) {
      out(MIGRATE_LOG_USAGE);
      return 0;
    }
    const dataDir = sqliteDataDir(values.from);
    const databaseUrl = postgresUrl(values.to);
    const file = join(dataDir, 'scim.db');
    // Opening a missing file would create an empty log and "copy" it: refuse instead.
    if (!existsSync(file)) throw new UsageError(`no embedded store in ${dataDir} (${file} does not exist)`);

    source = new SqliteEventStore(openSqliteDatabase({ filename: file }));
    target = new PostgresEventStore(databaseUrl, { applicationName: 'scim-migrate-log', queryTimeoutMs: 60_000 });
    await target.migrate();
    const sourceHead = await source.headPosition();
    out(`migrate-log: ${file} (last position ${sourceHead}) → PostgreSQL (DATABASE_URL)`);
    let lastNote = Date.now();
    const copied = await copyLog(source, target, {
      onProgress: (events, position) => {
        if (Date.now() - lastNote < 2000) return;
        lastNote = Date.now();
        out(`  ${events} events copied, up to position ${position} of ${sourceHead}`);
      },
    });
    out(`copied ${copied.events} events up to position ${copied.head} (${copied.inserted} new, ${copied.events - copied.inserted} already there)`);

    const keyFile = signingKeyFile(dataDir);
    if (existsSync(keyFile)) {
      const key = publicKeyOf(readFileSync(keyFile));
      await publishSigningKey(target, key);
      out(`published the audit signing key ${key.keyId} (checkpoints signed before the move verify on every instance)`);
    } else {
      out(`no audit signing key at ${keyFile}: checkpoints signed before the move verify only with that key's public half`);
    }
    await copyDataKeys(dataDir, databaseUrl, out);
    out('next: start the instances with EVENT_STORE=postgres and DATABASE_URL; each builds its read models from the log');
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`migrate-log: ${(err as Error).message}\n\n${MIGRATE_LOG_USAGE}\n`);
      return 2;
    }
    if (err instanceof LogImportConflictError) {
      process.stderr.write(`migrate-log: refused: ${err.message}. Nothing of the refused batch was written.\n`);
      return 1;
    }
    const why = err instanceof StoreUnavailableError ? err.message : ((err as Error)?.stack ?? String(err));
    process.stderr.write(`migrate-log failed: ${why}\n`);
    return 3;
  } finally {
    await source?.close();
    await target?.close();
  }
}

function sqliteDataDir(from: string | undefined): string {
  if (!from?.startsWith('sqlite:') || from.length === 'sqlite:'.length) {
    throw new UsageError(`--from must be sqlite:<DATA_DIR> (the embedded store's data directory)${from ? `, got ${from}` : ''}`);
  }
  return resolve(from.slice('sqlite:'.length));
}

/** The target from DATABASE_URL, so a password never appears on a command line or in `ps`. */
function postgresUrl(to: string | undefined): string {
  if (to !== 'postgres') throw new UsageError(`--to must be postgres (the database DATABASE_URL names)${to ? `, got ${to}` : ''}`);
  const url = process.env.DATABASE_URL;
  if (!url) throw new UsageError('DATABASE_URL is required (e.g. postgres://user:password@localhost:5432/scim)');
  if (!/^postgres(ql)?:\/\/[^/]/.test(url)) throw new UsageError('DATABASE_URL must be a postgres:// or postgresql:// URL with a host');
  return url;
}

/**
 * The data keys go with the log (the log's personal values are sealed under them): the wrapped
 * keys and tombstones into `scim_data_keys`, the master key (unless the instances will get it as
 * DATA_KEY_MASTER) and the identifier hash key into its shared rows.
 */
async function copyDataKeys(dataDir: string, databaseUrl: string, out: (line: string) => void): Promise<void> {
  const keysFile = join(dataDir, 'data-keys.db');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, application_name: 'scim-migrate-log' });
  const target = new PostgresKeyTable({ query: (sql, params) => pool.query(sql, params), end: () => pool.end() });
  try {
    if (existsSync(keysFile)) {
      const source = new SqliteKeyTable(new Database(keysFile, { fileMustExist: true }));
      const rows = source.all();
      for (const row of rows) await target.insertIfAbsent(row);
      await source.close();
      out(`copied ${rows.length} data keys (erased ones as tombstones)`);
    }
    const master = masterKeyFile(dataDir);
    if (existsSync(master) && !process.env.DATA_KEY_MASTER) {
      await target.setShared('master', parseMasterKey(readFileSync(master, 'utf8')).key);
      out(`the master key of ${master} is kept in the key table; better: set DATA_KEY_MASTER on every instance to that file's content`);
    }
    const identifier = join(dataDir, 'identifier-hash.key');
    await target.setShared('identifier', existsSync(identifier) ? Buffer.from(readFileSync(identifier, 'utf8').trim(), 'base64') : null);
  } finally {
    await target.close();
  }
}
