import { LogImportConflictError, StoreUnavailableError, StreamNotFoundError, UnsupportedOperationError, WrongExpectedRevisionError } from '../errors';
import type {
  AppendResult,
  EventData,
  EventFilter,
  EventStore,
  ExpectedRevision,
  JsonObject,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';
import { revisionMatches } from '../expected-revision';
import { type PolledLog, readWindow, subscribePolled, SUBSCRIPTION_PAGE } from '../polled-subscription';
import {
  DatabaseError,
  createClient,
  createPool,
  type Client,
  type Pool,
  type PoolClient,
  type PostgresConnectionOptions,
  type QueryResultRow,
} from './postgres-client';

/** Versioned schema; `scim_schema_migrations` records which ran. Never edit one that shipped. */
const MIGRATIONS: readonly string[] = [
  // `json`, not `jsonb`: the text is kept exactly as written (key order included), which the
  // audit chain's hashes rely on, and nothing ever queries inside an event.
  `CREATE TABLE scim_events (
     position    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     stream_id   text        NOT NULL,
     revision    bigint      NOT NULL,
     event_id    text        NOT NULL,
     type        text        NOT NULL,
     data        json        NOT NULL,
     metadata    json        NOT NULL,
     recorded_at timestamptz NOT NULL,
     CONSTRAINT scim_events_stream_revision UNIQUE (stream_id, revision),
     CONSTRAINT scim_events_event_id UNIQUE (event_id)
   )`,
];

/**
 * Advisory lock keys (arbitrary constants, unique to this application). Positions: held by
 * every append transaction from before it reads revisions until it commits, so positions are
 * taken and made visible in one order (see docs/decisions.md, "PostgreSQL event store").
 * Migrations: held for the session while one instance migrates; the others wait, then find
 * nothing left to do.
 */
const POSITION_LOCK = 0x5c1_e0e7_0001n;
const MIGRATION_LOCK = 0x5c1_e0e7_0002n;
const CHANNEL = 'scim_events';

/** Appends per group commit; bounds one transaction's size and lock time. */
const MAX_GROUP = 200;
const COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';
/** Connection-level failures: the store is down or unreachable, not a bug in the request. */
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

export interface PostgresEventStoreOptions extends Partial<PostgresConnectionOptions> {
  /** Longest a subscription sleeps without a NOTIFY before it looks for new events anyway. */
  readonly pollIntervalMs?: number;
  /**
   * Test only: appends take positions without the position lock, as a naive adapter would.
   * Exists so that the commit-order property test can show it fails without the lock.
   */
  readonly unsafeConcurrentPositions?: boolean;
  /** Test only: runs inside each append transaction, after its inserts, before COMMIT. */
  readonly beforeCommit?: (appends: readonly StreamAppend[]) => Promise<void>;
}

interface PendingAppend {
  readonly appends: readonly StreamAppend[];
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
  result?: AppendResult;
  error?: unknown;
}

interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject;
  recorded_at: Date;
}

/**
 * PostgreSQL behind the port: one table, positions from an identity column taken under a
 * transaction-scoped advisory lock (commit order == position order), store-assigned
 * timestamps, multi-stream appends in one transaction, subscriptions woken by LISTEN/NOTIFY
 * with polling as the fallback.
 */
export class PostgresEventStore implements EventStore {
  readonly name = 'postgres' as const;
  readonly supportsMultiStreamAppend = true;
  private readonly pool: Pool;
  private readonly connection: PostgresConnectionOptions;
  private readonly pollIntervalMs: number;
  private migrated?: Promise<void>;
  private listener?: Client;
  private listening = false;
  private listenerRetry?: NodeJS.Timeout;
  private listenerBackoff = 100;
  private readonly waiters = new Set<() => void>();
  private pending: PendingAppend[] = [];
  private committing = false;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly options: PostgresEventStoreOptions = {},
  ) {
    this.connection = {
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      queryTimeoutMs: options.queryTimeoutMs ?? 5000,
      maxConnections: options.maxConnections ?? 10,
      applicationName: options.applicationName ?? 'scim-event-store',
    };
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.pool = createPool(connectionString, this.connection);
  }

  /**
   * Runs the migrations this database lacks, once per store; a failure (store unreachable)
   * is retried by the next call, so a server started before its database recovers by itself.
   */
  migrate(): Promise<void> {
    this.migrated ??= this.runMigrations().catch((err: unknown) => {
      this.migrated = undefined;
      throw mapError(err);
    });
    return this.migrated;
  }

  private async runMigrations(): Promise<void> {
    const client = await this.pool.connect();
    try {
      // Session lock: instances starting together migrate one after the other, and the ones
      // that come second find every version recorded.
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS scim_schema_migrations (
           version    integer     PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await client.query<{ version: number | null }>(
        'SELECT max(version) AS version FROM scim_schema_migrations',
      );
      for (let v = rows[0]?.version ?? 0; v < MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        await client.query(MIGRATIONS[v]);
        await client.query('INSERT INTO scim_schema_migrations (version) VALUES ($1)', [v + 1]);
        await client.query('COMMIT');
      }
    } finally {
      // Destroyed rather than returned to the pool: closing the session releases the lock
      // whatever state the connection is in.
      client.release(true);
    }
  }

  append(streamId: string, events: readonly EventData[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    return this.appendMulti([{ streamId, events, expectedRevision }]);
  }

  async appendMulti(appends: readonly StreamAppend[]): Promise<AppendResult> {
    if (appends.length === 0) throw new UnsupportedOperationError('appendMulti needs at least one stream');
    this.assertOpen();
    return new Promise((resolve, reject) => {
      this.pending.push({ appends, resolve, reject });
      if (!this.committing) void this.commitPending();
    });
  }

  /**
   * Group commit: appends that arrive while a transaction is in flight share the next one.
   * Positions are serialised across the whole cluster, so each commit (and its WAL flush)
   * holds everyone else back; one flush per group instead of one per append is what keeps
   * throughput up under concurrent requests.
   */
  private async commitPending(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_GROUP);
        try {
          await this.transaction(async (client) => {
            const rest = batch.length > 1 ? await this.appendGroup(client, batch) : batch;
            for (const item of rest) await this.appendItem(client, item);
            await this.options.beforeCommit?.(batch.flatMap((item) => item.appends));
          });
        } catch (err) {
          for (const item of batch) item.reject(err);
          continue;
        }
        for (const item of batch) {
          if (item.error !== undefined) item.reject(item.error);
          else item.resolve(item.result as AppendResult);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  /**
   * One caller's appends inside the group's transaction, in two statements whatever the
   * number of streams (the position lock is held meanwhile, so round trips are what count):
   * one look-up of every stream's revision and first event id, one insert of every new
   * event. A conflict is that caller's answer alone: it is found before anything of the
   * caller is written, so the group's other appends go on without a savepoint.
   */
  private async appendItem(client: PoolClient, item: PendingAppend): Promise<void> {
    try {
      item.result = await this.appendStreams(client, item.appends);
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err;
      item.error = err;
    }
  }

  /**
   * The plain appends of a group in two statements for the whole group instead of two per
   * caller: the position lock is held through every round trip, so under concurrent writes
   * this is what bounds throughput. One look-up of every stream's revision (and whether each
   * batch's first event id is already stored), then one insert of every caller that expects
   * the right revisions, in queue order (a later caller expecting an earlier one's revision
   * of the same stream sees it). A caller whose expectation fails gets its conflict and writes
   * nothing, exactly as alone. Anything unusual (a retried id, the same stream twice in one
   * call, an empty batch, ids shared between callers) is returned for the one-caller path,
   * which runs after this insert in the same transaction and so sees it.
   */
  private async appendGroup(client: PoolClient, batch: readonly PendingAppend[]): Promise<PendingAppend[]> {
    const seenIds = new Set<string>();
    const candidates: PendingAppend[] = [];
    const rest: PendingAppend[] = [];
    for (const item of batch) {
      const ids = item.appends.flatMap((a) => a.events.map((e) => e.id));
      const plain =
        item.appends.every((a) => a.events.length > 0) &&
        new Set(item.appends.map((a) => a.streamId)).size === item.appends.length &&
        new Set(ids).size === ids.length &&
        !ids.some((id) => seenIds.has(id));
      if (!plain) {
        rest.push(item);
        continue;
      }
      for (const id of ids) seenIds.add(id);
      candidates.push(item);
    }
    if (candidates.length < 2) return [...candidates, ...rest];
    const appends = candidates.flatMap((item) => item.appends);
    const { rows } = await client.query<{ stream_id: string; current: string | null; first_stored: boolean }>({
      name: 'scim_group_revisions',
      text: `SELECT s.stream_id, (SELECT max(revision) FROM scim_events e WHERE e.stream_id = s.stream_id) AS current,
              EXISTS (SELECT 1 FROM scim_events f WHERE f.event_id = s.first_id) AS first_stored
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(stream_id, first_id, n)
        ORDER BY s.n`,
      values: [appends.map((a) => a.streamId), appends.map((a) => a.events[0].id)],
    });
    const current = new Map<string, bigint>();
    for (const r of rows) if (!current.has(r.stream_id)) current.set(r.stream_id, toBigint(r.current));
    const planned: { item: PendingAppend; last: { streamId: string; revision: bigint } }[] = [];
    const events: { streamId: string; revision: bigint; event: EventData }[] = [];
    let row = 0;
    for (const item of candidates) {
      const mine = rows.slice(row, row + item.appends.length);
      row += item.appends.length;
      if (mine.some((r) => r.first_stored)) {
        rest.push(item);
        continue;
      }
      const failed = item.appends.find((a) => !revisionMatches(a.expectedRevision, current.get(a.streamId) as bigint));
      if (failed) {
        item.error = new WrongExpectedRevisionError(failed.streamId, failed.expectedRevision, current.get(failed.streamId) as bigint);
        continue;
      }
      for (const a of item.appends) {
        const from = current.get(a.streamId) as bigint;
        a.events.forEach((event, i) => events.push({ streamId: a.streamId, revision: from + BigInt(i) + 1n, event }));
        current.set(a.streamId, from + BigInt(a.events.length));
      }
      const lastAppend = item.appends[item.appends.length - 1];
      planned.push({ item, last: { streamId: lastAppend.streamId, revision: current.get(lastAppend.streamId) as bigint } });
    }
    if (events.length === 0) return rest;
    const inserted = await this.insertEvents(client, events);
    if (inserted.length === 0) {
      // A later id of some batch is already stored: nothing was written, so every caller
      // (those refused against writes that did not happen included) finds out alone.
      const again = candidates.filter((c) => !rest.includes(c));
      for (const c of again) c.error = undefined;
      return [...again, ...rest];
    }
    const positions = new Map(inserted.map((r) => [`${r.revision}|${r.stream_id}`, BigInt(r.position)]));
    for (const { item, last } of planned) {
      item.result = { nextExpectedRevision: last.revision, position: positions.get(`${last.revision}|${last.streamId}`) as bigint };
    }
    return rest;
  }

  /**
   * Inserts `events` in the order given (so positions follow it), or nothing at all when any
   * of their ids is already stored: a conflict never leaves half a call written nor aborts
   * the group's transaction.
   */
  private async insertEvents(
    client: PoolClient,
    events: readonly { streamId: string; revision: bigint; event: EventData }[],
  ): Promise<{ position: string; stream_id: string; revision: string }[]> {
    const { rows } = await client.query<{ position: string; stream_id: string; revision: string }>({
      name: 'scim_insert_events',
      text: `INSERT INTO scim_events (stream_id, revision, event_id, type, data, metadata, recorded_at)
       SELECT stream_id, revision, id, type, data::json, metadata::json, statement_timestamp()
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
              WITH ORDINALITY AS e(stream_id, revision, id, type, data, metadata, n)
        WHERE NOT EXISTS (SELECT 1 FROM scim_events WHERE event_id = ANY($3::text[]))
        ORDER BY n
       RETURNING position, stream_id, revision`,
      values: [
        events.map((e) => e.streamId),
        events.map((e) => e.revision.toString()),
        events.map((e) => e.event.id),
        events.map((e) => e.event.type),
        events.map((e) => JSON.stringify(e.event.data)),
        // The events of one decision share one metadata object: serialise it once.
        serialiseShared(events.map((e) => e.event.metadata ?? {})),
      ],
    });
    return rows;
  }

  private async appendStreams(client: PoolClient, appends: readonly StreamAppend[]): Promise<AppendResult> {
    // The same stream twice in one call: each part must see the one before it written.
    if (new Set(appends.map((a) => a.streamId)).size < appends.length && appends.length > 1) {
      let last: AppendResult | undefined;
      for (const a of appends) last = await this.appendStreams(client, [a]);
      return last as AppendResult;
    }
    const { rows } = await client.query<{ current: string | null; first_stream: string | null; first_revision: string | null }>({
      name: 'scim_revisions',
      text: `SELECT (SELECT max(revision) FROM scim_events e WHERE e.stream_id = s.stream_id) AS current,
              f.stream_id AS first_stream, f.revision AS first_revision
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(stream_id, first_id, n)
         LEFT JOIN scim_events f ON f.event_id = s.first_id
        ORDER BY s.n`,
      values: [appends.map((a) => a.streamId), appends.map((a) => a.events[0]?.id ?? null)],
    });
    const results: (AppendResult | undefined)[] = [];
    const toInsert: { append: StreamAppend; current: bigint; index: number }[] = [];
    for (const [index, a] of appends.entries()) {
      const row = rows[index];
      const current = row.current === null ? -1n : BigInt(row.current);
      const matches = revisionMatches(a.expectedRevision, current);
      // A retried batch is only stored at the expected place if the stream moved past it
      // (or the writer did not say where); otherwise a stored id is a conflict that the
      // insert below finds.
      if (row.first_stream !== null && (!matches || a.expectedRevision === 'any' || a.expectedRevision === 'stream_exists')) {
        results[index] = await this.idempotentResult(client, a.streamId, a.events, a.expectedRevision, current, {
          streamId: row.first_stream,
          revision: BigInt(row.first_revision as string),
        });
        continue;
      }
      if (!matches) throw new WrongExpectedRevisionError(a.streamId, a.expectedRevision, current);
      if (a.events.length === 0) {
        const head = await client.query<{ p: string | null }>('SELECT max(position) AS p FROM scim_events');
        results[index] = { nextExpectedRevision: current, position: toBigint(head.rows[0].p) };
        continue;
      }
      toInsert.push({ append: a, current, index });
    }
    if (toInsert.length > 0) {
      const events = toInsert.flatMap(({ append, current }) =>
        append.events.map((e, i) => ({ streamId: append.streamId, revision: current + BigInt(i) + 1n, event: e })),
      );
      const ids = events.map((e) => e.event.id);
      // Rows go in in the order given, so positions follow the caller's order of streams and events.
      const inserted = await this.insertEvents(client, events);
      if (inserted.length === 0) throw await this.overlapConflict(client, toInsert, ids);
      const lastOf = new Map<string, { position: bigint; revision: bigint }>();
      for (const r of inserted) {
        const revision = BigInt(r.revision);
        const seen = lastOf.get(r.stream_id);
        if (!seen || revision > seen.revision) lastOf.set(r.stream_id, { position: BigInt(r.position), revision });
      }
      for (const { append, index } of toInsert) {
        const last = lastOf.get(append.streamId) as { position: bigint; revision: bigint };
        results[index] = { nextExpectedRevision: last.revision, position: last.position };
      }
    }
    return results[results.length - 1] as AppendResult;
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: PoolClient;
    try {
      await this.migrate();
      client = await this.pool.connect();
    } catch (err) {
      throw mapError(err);
    }
    let healthy = true;
    try {
      // One round trip for both: the lock is held until COMMIT, so no append can take a
      // position before this one while this one is still invisible.
      await client.query(
        this.options.unsafeConcurrentPositions ? 'BEGIN' : `BEGIN; SELECT pg_advisory_xact_lock(${POSITION_LOCK})`,
      );
      const result = await work(client);
      await client.query(`NOTIFY ${CHANNEL}; COMMIT`);
      return result;
    } catch (err) {
      healthy = err instanceof DatabaseError || err instanceof WrongExpectedRevisionError || err instanceof LogImportConflictError;
      if (healthy) await client.query('ROLLBACK').catch(() => (healthy = false));
      throw mapError(err);
    } finally {
      // A connection that failed mid-query (or timed out) may still owe us an answer: never reuse it.
      client.release(!healthy);
    }
  }

  /**
   * Copies events recorded by another store, verbatim: the same positions, revisions, ids and
   * recorded times, so that everything derived from them (the audit chain hashes positions and
   * recorded times, signed checkpoints name positions) stays valid in this store. For moving a
   * log offline (`migrate-log`), never while instances write: it sets positions itself.
   *
   * `after` is the position the previous batch ended at (-1 for the first): every position in
   * (after, last of these] must end up holding exactly these events, so a re-run over a copy
   * already made inserts nothing and succeeds, and a database that holds anything else there
   * (another log, or events a server wrote before the move) is refused with
   * `LogImportConflictError` and left unchanged by this batch.
   */
  async importRecorded(events: readonly RecordedEvent[], after: bigint): Promise<{ inserted: number }> {
    if (events.length === 0) return { inserted: 0 };
    for (const [i, e] of events.entries()) {
      const previous = i === 0 ? after : events[i - 1].position;
      if (e.position <= previous) throw new RangeError(`importRecorded: positions must increase (${e.position} after ${previous})`);
    }
    const last = events[events.length - 1].position;
    return this.transaction(async (client) => {
      // The identity column is GENERATED ALWAYS: OVERRIDING SYSTEM VALUE is how an explicit
      // position goes in. ON CONFLICT DO NOTHING (any unique constraint) makes a re-run a
      // no-op; whether what is there is the same event is checked below.
      const inserted = await client.query(
        `INSERT INTO scim_events (position, stream_id, revision, event_id, type, data, metadata, recorded_at)
         OVERRIDING SYSTEM VALUE
         SELECT position, stream_id, revision, id, type, data::json, metadata::json, recorded_at
           FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
                AS e(position, stream_id, revision, id, type, data, metadata, recorded_at)
         ON CONFLICT DO NOTHING`,
        [
          events.map((e) => e.position.toString()),
          events.map((e) => e.streamId),
          events.map((e) => e.revision.toString()),
          events.map((e) => e.id),
          events.map((e) => e.type),
          events.map((e) => JSON.stringify(e.data)),
          events.map((e) => JSON.stringify(e.metadata)),
          events.map((e) => e.recordedAt.toISOString()),
        ],
      );
      const { rows } = await client.query<{ position: string; event_id: string; stream_id: string; revision: string }>(
        'SELECT position, event_id, stream_id, revision FROM scim_events WHERE position > $1 AND position <= $2 ORDER BY position',
        [after.toString(), last.toString()],
      );
      const held = new Map(rows.map((r) => [r.position, r]));
      const copied = new Set(events.map((e) => e.position.toString()));
      const stranger = rows.find((r) => !copied.has(r.position));
      if (stranger) throw new LogImportConflictError(BigInt(stranger.position), `an event (${stranger.event_id} in ${stranger.stream_id}) the source does not have there`);
      for (const e of events) {
        const r = held.get(e.position.toString());
        if (!r) throw new LogImportConflictError(e.position, `nothing, because event ${e.id} or revision ${e.revision} of ${e.streamId} is stored at another position`);
        if (r.event_id !== e.id || r.stream_id !== e.streamId || r.revision !== e.revision.toString()) {
          throw new LogImportConflictError(e.position, `event ${r.event_id} (${r.stream_id}@${r.revision}), not ${e.id} (${e.streamId}@${e.revision})`);
        }
      }
      // Appends after the move take positions after the copied ones (never backwards, should
      // the database already hold later events from an earlier run).
      await client.query(
        `SELECT setval(pg_get_serial_sequence('scim_events', 'position'), (SELECT max(position) FROM scim_events))`,
      );
      return { inserted: inserted.rowCount ?? 0 };
    });
  }

  /** Names the stream whose batch overlaps events already stored. */
  private async overlapConflict(
    client: PoolClient,
    candidates: readonly { append: StreamAppend; current: bigint }[],
    ids: readonly string[],
  ): Promise<WrongExpectedRevisionError> {
    const { rows } = await client.query<{ event_id: string }>('SELECT event_id FROM scim_events WHERE event_id = ANY($1::text[])', [ids]);
    const stored = new Set(rows.map((r) => r.event_id));
    const culprit = candidates.find((c) => c.append.events.some((e) => stored.has(e.id))) ?? candidates[0];
    return new WrongExpectedRevisionError(culprit.append.streamId, culprit.append.expectedRevision, culprit.current);
  }

  /**
   * EventStoreDB's idempotency: a batch whose ids are exactly the events already stored at
   * the expected place succeeds again without writing; any partial overlap is a conflict.
   */
  private async idempotentResult(
    client: PoolClient,
    streamId: string,
    events: readonly EventData[],
    expected: ExpectedRevision,
    current: bigint,
    first: { streamId: string; revision: bigint },
  ): Promise<AppendResult> {
    const conflict = () => new WrongExpectedRevisionError(streamId, expected, current);
    if (first.streamId !== streamId) throw conflict();
    const expectedFirst =
      expected === 'any' || expected === 'stream_exists' ? first.revision : expected === 'no_stream' ? 0n : expected + 1n;
    if (first.revision !== expectedFirst) throw conflict();
    const { rows } = await client.query<{ event_id: string; position: string }>(
      `SELECT event_id, position FROM scim_events
        WHERE stream_id = $1 AND revision >= $2 AND revision < $2::bigint + $3 ORDER BY revision`,
      [streamId, first.revision.toString(), events.length],
    );
    if (rows.length !== events.length || rows.some((r, i) => r.event_id !== events[i].id)) throw conflict();
    return {
      nextExpectedRevision: first.revision + BigInt(events.length) - 1n,
      position: BigInt(rows[rows.length - 1].position),
    };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const max = options.maxCount ?? null;
    const rows = backwards
      ? await this.query<EventRow>(
          `SELECT ${COLUMNS} FROM scim_events WHERE stream_id = $1 AND ($2::bigint IS NULL OR revision <= $2)
            ORDER BY revision DESC LIMIT $3`,
          [streamId, options.fromRevision?.toString() ?? null, max],
          'scim_read_stream_backwards',
        )
      : await this.query<EventRow>(
          `SELECT ${COLUMNS} FROM scim_events WHERE stream_id = $1 AND revision >= $2 ORDER BY revision ASC LIMIT $3`,
          [streamId, (options.fromRevision ?? 0n).toString(), max],
          'scim_read_stream',
        );
    if (rows.length === 0) {
      // Streams are never empty: no rows from the start means no stream, without a second query.
      const fromStart = !backwards && (options.fromRevision ?? 0n) === 0n && (max === null || max > 0);
      if (fromStart) throw new StreamNotFoundError(streamId);
      const exists = await this.query('SELECT 1 FROM scim_events WHERE stream_id = $1 LIMIT 1', [streamId]);
      if (exists.length === 0) throw new StreamNotFoundError(streamId);
    }
    return rows.map(toRecorded);
  }

  /** Several streams in one query: a create reads four or five reservation streams first. */
  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const result = new Map<string, RecordedEvent[]>(streamIds.map((id) => [id, []]));
    if (streamIds.length === 0) return result;
    const rows = await this.query<EventRow>(
      `SELECT ${COLUMNS} FROM scim_events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, revision`,
      [[...new Set(streamIds)]],
      'scim_read_streams',
    );
    for (const row of rows) result.get(row.stream_id)?.push(toRecorded(row));
    return result;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const params: unknown[] = [options.fromPosition?.toString() ?? null, options.maxCount ?? null];
    const filter = filterSql(options.filter, params);
    const rows = await this.query<EventRow>(
      backwards
        ? `SELECT ${COLUMNS} FROM scim_events WHERE ($1::bigint IS NULL OR position <= $1) AND ${filter}
            ORDER BY position DESC LIMIT $2`
        : `SELECT ${COLUMNS} FROM scim_events WHERE position >= coalesce($1::bigint, 0) AND ${filter}
            ORDER BY position ASC LIMIT $2`,
      params,
    );
    return rows.map(toRecorded);
  }

  /** Up to `max` events after `after`, in position order. */
  async readAfter(after: bigint, max: number): Promise<RecordedEvent[]> {
    const rows = await this.query<EventRow>(
      `SELECT ${COLUMNS} FROM scim_events WHERE position > $1 ORDER BY position ASC LIMIT $2`,
      [after.toString(), max],
      'scim_read_after',
    );
    return rows.map(toRecorded);
  }

  /** Events with position in (after, upTo], optionally filtered. */
  async readRange(after: bigint, upTo: bigint, filter: EventFilter | undefined): Promise<RecordedEvent[]> {
    const params: unknown[] = [after.toString(), upTo.toString()];
    const where = filterSql(filter, params);
    const rows = await this.query<EventRow>(
      `SELECT ${COLUMNS} FROM scim_events WHERE position > $1 AND position <= $2 AND ${where} ORDER BY position ASC`,
      params,
    );
    return rows.map(toRecorded);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    return subscribePolled(this.polled, options);
  }

  /** The log as the shared subscription loop reads it; an outage pauses it, not ends it. */
  private readonly polled: PolledLog = {
    isClosed: () => this.closed,
    readPage: async (position, window, filter) => {
      if (!filter) {
        // Unfiltered: one query per wake-up; a short page means the end of the log.
        const events = await this.readAfter(position, SUBSCRIPTION_PAGE);
        return { events, upTo: events.at(-1)?.position ?? position, atHead: events.length < SUBSCRIPTION_PAGE };
      }
      // Filtered: walk the log in windows so checkpoints come while nothing matches.
      return readWindow(position, window, await this.headPosition(), (after, upTo) => this.readRange(after, upTo, filter));
    },
    waitForAppend: (signal) => this.waitForAppend(signal),
    wake: (signal) => signal.wake?.(),
    pause: (ms, signal) => this.pause(ms, signal),
  };

  async headPosition(): Promise<bigint> {
    const rows = await this.query<{ p: string | null }>('SELECT max(position) AS p FROM scim_events', [], 'scim_head');
    return toBigint(rows[0].p);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.listenerRetry);
    this.wakeAll();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Resolves on a NOTIFY of an append (from any instance), on `wake`, on close, or after the
   * polling interval, whichever comes first. Without a LISTEN connection it is plain polling.
   */
  waitForAppend(signal: { wake?: () => void }): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ensureListener();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      // A waiting subscription must not keep the process alive on its own.
      timer.unref();
      this.waiters.add(done);
      signal.wake = done;
    });
  }

  /** Sleeps `ms` unless woken (unsubscribe, close) first. */
  pause(ms: number, signal: { wake?: () => void }): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.add(done);
      signal.wake = done;
    });
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }

  /** One LISTEN connection per store, reopened with backoff whenever it is lost. */
  private ensureListener(): void {
    if (this.listener || this.listenerRetry || this.closed) return;
    const client = createClient(this.connectionString, this.connection);
    this.listener = client;
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = false;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.listenerRetry = setTimeout(() => {
        this.listenerRetry = undefined;
        if (this.waiters.size > 0) this.ensureListener();
      }, this.listenerBackoff);
      this.listenerRetry.unref();
      this.listenerBackoff = Math.min(this.listenerBackoff * 2, 5000);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.wakeAll());
    client
      .connect()
      .then(() => client.query(`LISTEN ${CHANNEL}`))
      .then(() => {
        if (this.listener !== client) return;
        this.listening = true;
        this.listenerBackoff = 100;
        // Appends made while no connection listened were never announced: look now.
        this.wakeAll();
      })
      .catch(lost);
  }

  /** Whether NOTIFY wake-ups currently arrive (tests and health). */
  get isListening(): boolean {
    return this.listening;
  }

  /** `name` makes it a prepared statement (parsed and planned once per connection): fixed SQL only. */
  private async query<R extends object>(sql: string, params: unknown[] = [], name?: string): Promise<R[]> {
    this.assertOpen();
    try {
      await this.migrate();
      return (await this.pool.query<R & QueryResultRow>(name ? { name, text: sql, values: params } : { text: sql, values: params })).rows;
    } catch (err) {
      throw mapError(err);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('The event store is closed');
  }
}

/** A WHERE fragment for `filter`, its values appended to `params`. */
function filterSql(filter: EventFilter | undefined, params: unknown[]): string {
  const clauses: string[] = [];
  if (filter?.streamPrefixes && filter.streamPrefixes.length > 0) {
    params.push(filter.streamPrefixes);
    // starts_with, not LIKE: stream ids may contain '%' or '_'.
    clauses.push(`stream_id ^@ ANY($${params.length}::text[])`);
  }
  if (filter?.eventTypes && filter.eventTypes.length > 0) {
    params.push(filter.eventTypes);
    clauses.push(`type = ANY($${params.length}::text[])`);
  }
  return clauses.length > 0 ? clauses.join(' AND ') : 'true';
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

function serialiseShared(values: readonly JsonObject[]): string[] {
  let last: JsonObject | undefined;
  let json = '';
  return values.map((v) => {
    if (v !== last) {
      last = v;
      json = JSON.stringify(v);
    }
    return json;
  });
}

function toBigint(value: string | null): bigint {
  return value === null ? -1n : BigInt(value);
}

/**
 * Store errors to port errors. Anything that says "the server cannot answer now" (no
 * connection, a dropped one, a timeout, a server shutting down or out of connections)
 * becomes StoreUnavailableError, which the HTTP layer answers with 503.
 */
export function mapError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || err instanceof WrongExpectedRevisionError || err instanceof StreamNotFoundError) {
    return err;
  }
  if (err instanceof DatabaseError) {
    const code = err.code ?? '';
    // 08: connection exception; 53: insufficient resources (too many connections, disk
    // full); 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
    if (code.startsWith('08') || code.startsWith('53') || /^57P0[1-3]$/.test(code)) {
      return new StoreUnavailableError(`PostgreSQL unavailable: ${err.message}`, err);
    }
    return err;
  }
  // Socket errors come from Node's own realm, where `instanceof Error` can be false (jest):
  // look at the shape instead.
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : '';
    if (
      (typeof code === 'string' && UNAVAILABLE_NODE_CODES.has(code)) ||
      /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end|Client was closed/i.test(
        text,
      )
    ) {
      return new StoreUnavailableError(`PostgreSQL unavailable: ${text}`, err);
    }
  }
  return err;
}
