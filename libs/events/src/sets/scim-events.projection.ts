import type { JsonObject, RecordedEvent } from '@app/event-store';
import { ACCOUNT_EVENT_TYPES, type IdentityState, SCIM_GROUP_EVENT_TYPES } from '@app/identity';
import type { Projection, ProjectionHandle, ReadModelDb, TableNamer } from '@app/projections';
import { AsyncRequestEventTypes, type AsyncRequestAccepted } from '../async-request.events';
import { streamFeedEntries } from '../streams/stream-feed.mapping';
import { STREAM_EVENT_TYPES } from '../streams/stream.events';
import { erasedEntries, erasedSubject, type FeedEntry, type GroupView, securityEventsFor, txnOf, userVersionAfter, withVersion } from './security-events.mapping';

/** A place in the feed: a log position and the index of a SET within its event. */
export interface FeedKey {
  readonly position: bigint;
  readonly index: number;
}

export interface ScimEventsHandle extends ProjectionHandle {
  /** Entries of `scope` for `streamId` strictly after `after`, in log order. */
  after(scope: string, streamId: string, after: FeedKey | null, limit: number): FeedEntry[];
  /** The newest entry of the scope, for lag. */
  last(scope: string): FeedKey | null;
  /** Ids of the live SET streams (of one scope, or all), oldest first, with their delivery method. */
  streams(scope?: string): { id: string; scope: string; method: string }[];
}

interface Row {
  position: number;
  idx: number;
  body: string;
}

/**
 * The SCIM event feed: every committed User/Group change as RFC 9967 entries
 * (`securityEventsFor`), folded with its own view of the resources so a rebuild yields the
 * same entries. Streams render these into their SETs; delivery state is elsewhere (events).
 */
export const scimEventsProjection: Projection<ScimEventsHandle> = {
  name: 'scim-events',
  // v2: identities know their account and feed rows their subject, so an erasure can purge a person.
  version: 2,
  tables: ['events_identities', 'events_groups', 'events_async', 'events_feed', 'events_streams', 'events_accounts'],
  eventTypes: [...ACCOUNT_EVENT_TYPES, ...SCIM_GROUP_EVENT_TYPES, ...STREAM_EVENT_TYPES, AsyncRequestEventTypes.accepted, AsyncRequestEventTypes.completed],
  create(db: ReadModelDb, t: TableNamer) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${t('events_identities')} (id TEXT PRIMARY KEY, account_id TEXT, state TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS ${t('events_identities')}_account ON ${t('events_identities')} (account_id);
      CREATE TABLE IF NOT EXISTS ${t('events_groups')} (id TEXT PRIMARY KEY, state TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t('events_streams')} (id TEXT PRIMARY KEY, scope TEXT NOT NULL, method TEXT NOT NULL, position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t('events_accounts')} (account_id TEXT PRIMARY KEY, txn TEXT NOT NULL, keys TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t('events_async')} (txn TEXT PRIMARY KEY, bulk INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t('events_feed')} (
        position INTEGER NOT NULL, idx INTEGER NOT NULL, scope TEXT NOT NULL, stream_id TEXT, subject_id TEXT, body TEXT NOT NULL,
        PRIMARY KEY (position, idx)
      );
      CREATE INDEX IF NOT EXISTS ${t('events_feed')}_scope ON ${t('events_feed')} (scope, position, idx);
      CREATE INDEX IF NOT EXISTS ${t('events_feed')}_subject ON ${t('events_feed')} (subject_id);
    `);
  },
  open(db: ReadModelDb, t: TableNamer): ScimEventsHandle {
    const getIdentity = db.prepare<[string], { state: string }>(`SELECT state FROM ${t('events_identities')} WHERE id = ?`);
    const putIdentity = db.prepare(
      `INSERT INTO ${t('events_identities')} (id, account_id, state) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`,
    );
    const identitiesOf = db.prepare<[string], { id: string; state: string }>(`SELECT id, state FROM ${t('events_identities')} WHERE account_id = ?`);
    const dropIdentity = db.prepare(`DELETE FROM ${t('events_identities')} WHERE id = ?`);
    const dropAccount = db.prepare(`DELETE FROM ${t('events_accounts')} WHERE account_id = ?`);
    const rowsAbout = db.prepare<[string], Row>(`SELECT position, idx, body FROM ${t('events_feed')} WHERE subject_id = ?`);
    const getGroup = db.prepare<[string], { state: string }>(`SELECT state FROM ${t('events_groups')} WHERE id = ?`);
    const putGroup = db.prepare(`INSERT INTO ${t('events_groups')} (id, state) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`);
    const dropGroup = db.prepare(`DELETE FROM ${t('events_groups')} WHERE id = ?`);
    const getAsync = db.prepare<[string], { bulk: number }>(`SELECT bulk FROM ${t('events_async')} WHERE txn = ?`);
    const putAsync = db.prepare(`INSERT OR REPLACE INTO ${t('events_async')} (txn, bulk) VALUES (?, ?)`);
    const insert = db.prepare(`INSERT OR REPLACE INTO ${t('events_feed')} (position, idx, scope, stream_id, subject_id, body) VALUES (?, ?, ?, ?, ?, ?)`);
    const after = db.prepare<[string, string, number, number, number, number], Row>(
      `SELECT position, idx, body FROM ${t('events_feed')} WHERE scope = ? AND (stream_id IS NULL OR stream_id = ?)
         AND (position > ? OR (position = ? AND idx > ?)) ORDER BY position, idx LIMIT ?`,
    );
    const last = db.prepare<[string], { position: number; idx: number }>(
      `SELECT position, idx FROM ${t('events_feed')} WHERE scope = ? ORDER BY position DESC, idx DESC LIMIT 1`,
    );
    const putStream = db.prepare(`INSERT INTO ${t('events_streams')} (id, scope, method, position) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET method = excluded.method`);
    const dropStream = db.prepare(`DELETE FROM ${t('events_streams')} WHERE id = ?`);
    const allStreams = db.prepare<[], { id: string; scope: string; method: string }>(`SELECT id, scope, method FROM ${t('events_streams')} ORDER BY position`);
    const scopeStreams = db.prepare<[string], { id: string; scope: string; method: string }>(`SELECT id, scope, method FROM ${t('events_streams')} WHERE scope = ? ORDER BY position`);
    const getAccount = db.prepare<[string], { txn: string; keys: string }>(`SELECT txn, keys FROM ${t('events_accounts')} WHERE account_id = ?`);
    const putAccount = db.prepare(`INSERT OR REPLACE INTO ${t('events_accounts')} (account_id, txn, keys) VALUES (?, ?, ?)`);
    const getRow = db.prepare<[number, number], Row>(`SELECT position, idx, body FROM ${t('events_feed')} WHERE position = ? AND idx = ?`);
    const setBody = db.prepare(`UPDATE ${t('events_feed')} SET body = ? WHERE position = ? AND idx = ?`);
    /** Later events of the same request on the same account move the version of its SETs (see withVersion). */
    const followAccount = (e: RecordedEvent, entries: readonly FeedEntry[]) => {
      const accountId = (e.data as JsonObject).accountId;
      if (typeof accountId !== 'string' || !e.streamId.startsWith('account-')) return;
      const txn = txnOf(e);
      const userEntries = entries.filter((x) => x.subject?.resource === 'Users');
      if (userEntries.length > 0) {
        putAccount.run(accountId, txn, JSON.stringify(userEntries.map((x) => [Number(x.position), x.index])));
        return;
      }
      const last = getAccount.get(accountId);
      if (!last || last.txn !== txn) return;
      for (const [p, i] of JSON.parse(last.keys) as [number, number][]) {
        const row = getRow.get(p, i);
        if (!row) continue;
        const { position: _, ...rest } = withVersion(toEntry(row), userVersionAfter(e));
        setBody.run(JSON.stringify({ ...rest, position: String(p) }), p, i);
      }
    };
    const view = {
      identity: (id: string) => {
        const r = getIdentity.get(id);
        return r ? (JSON.parse(r.state) as IdentityState) : undefined;
      },
      group: (id: string) => {
        const r = getGroup.get(id);
        return r ? (JSON.parse(r.state) as GroupView) : undefined;
      },
      asyncIsBulk: (txn: string) => getAsync.get(txn)?.bulk === 1,
    };
    const save = (entry: FeedEntry) => {
      const { position, ...rest } = entry;
      insert.run(Number(position), entry.index, entry.scope, entry.streamId ?? null, entry.subject?.id ?? null, JSON.stringify({ ...rest, position: position.toString() }));
    };
    return {
      apply(e: RecordedEvent) {
        if (e.type === AsyncRequestEventTypes.accepted) {
          const d = e.data as AsyncRequestAccepted;
          putAsync.run(d.txn, d.bulk ? 1 : 0);
          return;
        }
        if (e.type === 'SetStreamCreated' || e.type === 'SetStreamUpdated') {
          const d = e.data as { streamId: string; scope: string; method: string };
          putStream.run(d.streamId, d.scope, d.method, Number(e.position));
        }
        if (e.type === 'SetStreamDeleted') dropStream.run((e.data as { streamId: string }).streamId);
        if (e.type === 'AccountErased') {
          // Nothing of the person stays here: their identities' state goes, the SETs about them
          // lose every value (`:full` data, `sub_id.externalId`), and SCIM no longer has them.
          const accountId = (e.data as { accountId: string }).accountId;
          const identities = identitiesOf.all(accountId);
          erasedEntries(e, identities.map((r) => JSON.parse(r.state) as IdentityState)).forEach(save);
          for (const { id } of identities) {
            for (const row of rowsAbout.all(id)) {
              const { position: _, ...rest } = toEntry(row);
              setBody.run(JSON.stringify({ ...rest, ...erasedSubject(id), full: {}, position: String(row.position) }), row.position, row.idx);
            }
            dropIdentity.run(id);
          }
          dropAccount.run(accountId);
          return;
        }
        const own = streamFeedEntries(e);
        if (own.length > 0) {
          own.forEach(save);
          return;
        }
        const change = securityEventsFor(e, view);
        if (change.identity) putIdentity.run(change.identity.id, (e.data as JsonObject).accountId ?? null, JSON.stringify(change.identity));
        if (change.group === null) dropGroup.run((e.data as JsonObject).groupId as string);
        else if (change.group) putGroup.run(change.group.id, JSON.stringify(change.group));
        change.entries.forEach(save);
        followAccount(e, change.entries);
      },
      after(scope, streamId, from, limit) {
        const p = from ? Number(from.position) : -1;
        const i = from ? from.index : -1;
        return after.all(scope, streamId, p, p, i, limit).map(toEntry);
      },
      streams(scope) {
        return scope === undefined ? allStreams.all() : scopeStreams.all(scope);
      },
      last(scope) {
        const r = last.get(scope);
        return r ? { position: BigInt(r.position), index: r.idx } : null;
      },
    };
  },
};

function toEntry(r: Row): FeedEntry {
  const body = JSON.parse(r.body) as Omit<FeedEntry, 'position'> & { position: string };
  return { ...body, position: BigInt(body.position) };
}
