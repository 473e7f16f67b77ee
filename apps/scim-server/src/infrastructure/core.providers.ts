import { join } from 'node:path';
import { Logger, type Provider } from '@nestjs/common';
import { auditProjection } from '@app/audit';
import { scimEventsProjection } from '@app/events';
import { identifierHistoryProjection } from '@app/support';
import { AuthService, tokensProjection, type TokensHandle } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore, InProcessLeaderLease, LEADER_LEASE, type LeaderLease } from '@app/event-store';
import { createEventStore, openSqliteDatabase, PostgresLeaderLease, type SqliteDb, SqliteEventStore, WalCheckpointer } from '@app/event-store/adapters';
import { CLOCK, type Clock, foldForMatch, IDENTITY_DIRECTORY, systemClock } from '@app/identity';
import { type Projection, ProjectionRunner, ReadYourWrites, trackWrites } from '@app/projections';
import { loadingKeys, openingProjection, PersonalDataSealer, SealingEventStore } from '@app/privacy';
import { accountsProjection, groupsProjection, ReadModelDirectory, ScanPool, scimGroupsProjection, scimUsersProjection } from '@app/read-models';
import { Metrics } from '../metrics/metrics';
import { dataKeyProviders } from './data-keys.providers';
import { AUTH_SERVICE, RAW_EVENT_STORE, SQLITE_DB, WAL_CHECKPOINTER } from './tokens';

export const PROJECTIONS = [scimUsersProjection, scimGroupsProjection, groupsProjection, accountsProjection, tokensProjection, auditProjection, identifierHistoryProjection, scimEventsProjection];

/** The read models see plaintext; the audit log chains the stored (sealed) form, so erasure never breaks a hash. */
export function projectionsFor(sealer: PersonalDataSealer): Projection[] {
  return PROJECTIONS.map((p) => (p === auditProjection ? p : openingProjection(p as Projection, sealer)));
}

/** Registers `scim_fold`, the identifier fold the filter compiler and the read models share. */
function registerSqlFunctions(db: SqliteDb): void {
  db.function('scim_fold', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? foldForMatch(s) : s));
}

export function coreProviders(config: AppConfig): Provider[] {
  return [
    { provide: APP_CONFIG, useValue: config },
    { provide: CLOCK, useValue: systemClock },
    ...dataKeyProviders(config),
    {
      provide: SQLITE_DB,
      useFactory: () => {
        // On the embedded store the read models live in the log's own file, so a projection
        // commits its rows and its checkpoint with the events it read (exactly-once). On a
        // shared store (EventStoreDB, PostgreSQL) each instance keeps its own, fed by its
        // catch-up subscription.
        const file = config.eventStore === 'sqlite' ? 'scim.db' : 'read-models.db';
        const db = openSqliteDatabase({ filename: join(config.dataDir, file), synchronous: config.sqliteSynchronous });
        // Freed pages are zeroed: an erased person's read-model rows leave no bytes behind.
        db.pragma('secure_delete = ON');
        registerSqlFunctions(db);
        return db;
      },
    },
    {
      // Scans of a whole scope (filters on the stored document) read the same file from
      // worker threads: WAL readers see every committed write, and the request thread stays free.
      provide: ScanPool,
      inject: [SQLITE_DB],
      useFactory: (db: SqliteDb) => ScanPool.start(db.name, { workers: config.scanWorkers, maxQueuedPerTenant: config.scanQueuePerTenant }),
    },
    {
      provide: WAL_CHECKPOINTER,
      inject: [SQLITE_DB, RAW_EVENT_STORE],
      useFactory: async (db: SqliteDb, store: EventStore): Promise<WalCheckpointer | null> => {
        try {
          return await WalCheckpointer.start(db, db.name, {
            ...(store instanceof SqliteEventStore ? { quiesce: (pass: () => Promise<void>) => store.holdCommits(pass) } : {}),
          });
        } catch (err) {
          // SQLite's own auto-checkpoint stays on: slower commits now and then, nothing lost.
          new Logger('sqlite').warn(`WAL checkpoint worker not started, using SQLite's auto-checkpoint: ${(err as Error).message}`);
          return null;
        }
      },
    },
    {
      provide: RAW_EVENT_STORE,
      inject: [SQLITE_DB],
      useFactory: (db: SqliteDb): Promise<EventStore> =>
        createEventStore(
          config.eventStore === 'sqlite'
            ? { kind: 'sqlite', db }
            : config.eventStore === 'postgres'
              ? { kind: 'postgres', connectionString: config.databaseUrl as string }
              : { kind: 'eventstoredb', connectionString: config.eventStoreConnectionString as string },
        ),
    },
    {
      // Background work runs once across the instances of a shared store. EventStoreDB has no
      // locks: its instances each run the work, which stays correct (see docs/decisions.md).
      provide: LEADER_LEASE,
      useFactory: (): LeaderLease =>
        config.eventStore === 'postgres' ? new PostgresLeaderLease(config.databaseUrl as string) : new InProcessLeaderLease(),
    },
    {
      provide: ProjectionRunner,
      inject: [RAW_EVENT_STORE, SQLITE_DB, PersonalDataSealer],
      useFactory: (store: EventStore, db: SqliteDb, sealer: PersonalDataSealer) => {
        const logger = new Logger('projections');
        // The runner reads the stored form; the embedded key table answers synchronously, a remote one is loaded ahead.
        const source = config.eventStore === 'sqlite' ? store : loadingKeys(store, sealer);
        return new ProjectionRunner(source, db, projectionsFor(sealer), (m) => logger.log(m));
      },
    },
    {
      provide: ReadYourWrites,
      inject: [ProjectionRunner, RAW_EVENT_STORE],
      useFactory: (runner: ProjectionRunner, store: EventStore) =>
        // A shared store has other writers: queries also wait for its head (one cheap query).
        new ReadYourWrites(runner, config.readYourWritesTimeoutMs, config.eventStore === 'sqlite' ? undefined : () => store.headPosition()),
    },
    {
      provide: Metrics,
      inject: [ProjectionRunner],
      useFactory: (runner: ProjectionRunner) => new Metrics(() => runner.status()),
    },
    {
      provide: EVENT_STORE,
      inject: [RAW_EVENT_STORE, ReadYourWrites, Metrics, ProjectionRunner, PersonalDataSealer],
      useFactory: (store: EventStore, ryw: ReadYourWrites, metrics: Metrics, runner: ProjectionRunner, sealer: PersonalDataSealer) =>
        trackWrites(
          // Personal fields are sealed on append and opened on read: the stored bytes are ciphertext.
          new SealingEventStore(store, sealer),
          (p) => {
            ryw.wrote(p);
            metrics.eventsAppended.inc();
          },
          // Embedded store: an ack means applied. Appends too large to apply inline (and those
          // right behind one) wait, bounded, for the catch-up loop's slices; a failing
          // projection is not waited for (queries already wait for it, bounded, and say so).
          config.eventStore === 'sqlite'
            ? (p) => (runner.position >= p || runner.error !== undefined ? undefined : runner.waitFor(p, config.readYourWritesTimeoutMs))
            : undefined,
        ),
    },
    {
      provide: IDENTITY_DIRECTORY,
      inject: [RAW_EVENT_STORE, ProjectionRunner, ReadYourWrites],
      useFactory: (store: EventStore, runner: ProjectionRunner, ryw: ReadYourWrites) => new ReadModelDirectory(store, runner, ryw),
    },
    {
      provide: AUTH_SERVICE,
      inject: [ProjectionRunner, ReadYourWrites, RAW_EVENT_STORE, CLOCK],
      useFactory: (runner: ProjectionRunner, ryw: ReadYourWrites, store: EventStore, clock: Clock) =>
        new AuthService(() => runner.handle<TokensHandle>('tokens'), ryw, config.adminToken, () => clock.now(), config.eventStore === 'sqlite' ? undefined : store),
    },
  ];
}
