import type { RecordedEvent } from '@app/event-store';
import {
  ACCOUNT_EVENT_TYPES,
  accountEvents,
  type AttributeDocument,
  evolveIdentity,
  foldValue,
  type IdentityState,
  identityStatusChange,
} from '@app/identity';
import type { Projection, ProjectionHandle, ReadModelDb, ReadModelStatement, TableNamer } from '@app/projections';
import type { CursorPosition } from '@app/scim';
import { type ListPlan, type ListQuery, runPlan } from './scan-pool';

/** One SCIM identity as the read side serves it. */
export interface ScimUserRow {
  readonly id: string;
  readonly scope: string;
  readonly accountId: string;
  readonly seq: number;
  readonly userName: string;
  readonly externalId: string | null;
  readonly attributes: AttributeDocument;
  readonly active: boolean;
  readonly deleted: boolean;
  readonly created: string;
  readonly lastModified: string;
  readonly version: string;
  /** On a cursor page only: where the row sits in the page's order. */
  readonly position?: CursorPosition;
}

interface RawRow {
  id: string;
  scope: string;
  account_id: string;
  seq: number;
  user_name: string;
  external_id: string | null;
  attributes: string;
  active: number;
  deleted: number;
  created: string;
  last_modified: string;
  version: number;
  cursor_seq?: number;
  cursor_key?: string | number | null;
}

export type { ListQuery };

export interface ScimUsersHandle extends ProjectionHandle {
  get(scope: string, id: string): ScimUserRow | undefined;
  /**
   * The same row and the ids of the SCIM groups it is a member of, in one statement: the
   * membership table (the scim-groups projection's, passed by name) is read in a subquery.
   */
  getWithGroupIds(scope: string, id: string, membersTable: string): (ScimUserRow & { groupIds: string[] }) | undefined;
  /** Includes deleted identities (for the write side's look-ups and support). */
  findIdentity(id: string): { accountId: string; scope: string; deleted: boolean } | undefined;
  list(scope: string, query: ListQuery): { total: number; rows: ScimUserRow[] };
  /** The same list as SQL, for a scan worker (a filtered or sorted list; see ScanPool). */
  listPlan(scope: string, query: ListQuery): ListPlan;
  /** Rows as a plan's page returns them, as `list` returns them. */
  toRows(raw: readonly unknown[]): ScimUserRow[];
  count(scope: string, query: Pick<ListQuery, 'where'>): number;
  /** Physical table name, for SQL compiled from SCIM filters. */
  readonly table: string;
}

/** A block of live-user counts spans 2^12 log positions. */
const BLOCK_BITS = 12;

/**
 * The columns a read returns (RawRow): not the filter's JSON document nor the folded and display
 * copies, which only WHERE and ORDER BY use; a read that selected `*` built those strings for
 * every row and dropped them.
 */
const ROW_COLUMNS = 'id, scope, account_id, seq, user_name, external_id, attributes, active, deleted, created, last_modified, version';

/** JSON column the filter compiler reads: the attribute document plus `active`. */
export const USERS_JSON_COLUMN = 'doc';

/**
 * SCIM Users per scope. Hot attributes (userName folded, externalId, creation order,
 * timestamps, active) are columns with indexes; everything else is filtered through
 * SQLite's JSON functions on the stored document.
 */
export const scimUsersProjection: Projection<ScimUsersHandle> = {
  name: 'scim-users',
  // v2: live users counted per block of positions, so that paging is not a walk from the start.
  // v3: userName and externalId folded by the identifier fold (identifier-fold.ts).
  version: 3,
  tables: ['scim_users', 'scim_user_blocks'],
  // Every account event: each one moves the account's revision, which is the resource version.
  eventTypes: ACCOUNT_EVENT_TYPES,
  create(db: ReadModelDb, t: TableNamer) {
    const users = t('scim_users');
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${users} (
        id TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        account_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        user_name_folded TEXT NOT NULL,
        external_id TEXT,
        external_id_folded TEXT,
        display_name TEXT,
        ${USERS_JSON_COLUMN} TEXT NOT NULL,
        attributes TEXT NOT NULL,
        active INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        created TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        version INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${users}_scope_seq ON ${users} (scope, deleted, seq);
      CREATE INDEX IF NOT EXISTS ${users}_scope_user_name ON ${users} (scope, user_name_folded);
      CREATE INDEX IF NOT EXISTS ${users}_scope_external_id ON ${users} (scope, external_id_folded);
      CREATE INDEX IF NOT EXISTS ${users}_account ON ${users} (account_id);
    `);
    // Live users per scope and block of 4,096 log positions (seq is the position that created
    // the row and never changes), kept by triggers so that no write path can forget them. A
    // page at startIndex k then skips whole blocks by their counts and walks at most one block,
    // instead of OFFSET walking k index entries; the total is the sum of a few hundred rows.
    const blocks = t('scim_user_blocks');
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${blocks} (scope TEXT NOT NULL, block INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (scope, block)) WITHOUT ROWID;
      CREATE TRIGGER IF NOT EXISTS ${users}_live_insert AFTER INSERT ON ${users} WHEN NEW.deleted = 0 BEGIN
        INSERT INTO ${blocks} (scope, block, n) VALUES (NEW.scope, NEW.seq >> ${BLOCK_BITS}, 1)
          ON CONFLICT (scope, block) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER IF NOT EXISTS ${users}_live_delete AFTER DELETE ON ${users} WHEN OLD.deleted = 0 BEGIN
        UPDATE ${blocks} SET n = n - 1 WHERE scope = OLD.scope AND block = OLD.seq >> ${BLOCK_BITS};
      END;
      CREATE TRIGGER IF NOT EXISTS ${users}_live_update AFTER UPDATE OF deleted ON ${users} WHEN OLD.deleted <> NEW.deleted BEGIN
        INSERT INTO ${blocks} (scope, block, n) VALUES (NEW.scope, NEW.seq >> ${BLOCK_BITS}, CASE WHEN NEW.deleted = 0 THEN 1 ELSE -1 END)
          ON CONFLICT (scope, block) DO UPDATE SET n = n + excluded.n;
      END;
    `);
  },
  open(db: ReadModelDb, t: TableNamer): ScimUsersHandle {
    const users = t('scim_users');
    const insert = db.prepare(
      `INSERT INTO ${users} (id, scope, account_id, seq, user_name, user_name_folded, external_id, external_id_folded, display_name, ${USERS_JSON_COLUMN}, attributes, active, deleted, created, last_modified, version)
       VALUES (@id, @scope, @account_id, @seq, @user_name, @user_name_folded, @external_id, @external_id_folded, @display_name, @doc, @attributes, @active, 0, @at, @at, @version)`,
    );
    const byId = db.prepare(`SELECT * FROM ${users} WHERE id = ?`);
    // The write side asks this for thousands of members at once: only the three columns it needs.
    const identityById = db.prepare(`SELECT account_id, scope, deleted FROM ${users} WHERE id = ?`);
    const liveById = db.prepare(`SELECT ${ROW_COLUMNS} FROM ${users} WHERE id = ? AND scope = ? AND deleted = 0`);
    const save = db.prepare(
      `UPDATE ${users} SET user_name = @user_name, user_name_folded = @user_name_folded, external_id = @external_id, external_id_folded = @external_id_folded,
         display_name = @display_name, ${USERS_JSON_COLUMN} = @doc, attributes = @attributes, active = @active, deleted = @deleted,
         last_modified = @at WHERE id = @id`,
    );
    const bumpVersion = db.prepare(`UPDATE ${users} SET version = ? WHERE account_id = ?`);
    // Lifecycle events change only flags (the decider's `identityStatusChange`): SQLite sets them,
    // and `active` inside the stored document, without a read, a parse and two serialisations in
    // JS (these are most of a log). A flag the event leaves out (null) keeps its value.
    const setFlags = db.prepare<[{ id: string; active: number | null; deleted: number | null; at: string }]>(
      `UPDATE ${users} SET active = coalesce(@active, active), deleted = coalesce(@deleted, deleted), last_modified = @at,
         ${USERS_JSON_COLUMN} = json_set(${USERS_JSON_COLUMN}, '$.active', json(CASE coalesce(@active, active) WHEN 1 THEN 'true' ELSE 'false' END))
       WHERE id = @id`,
    );
    const remove = db.prepare(`DELETE FROM ${users} WHERE id = ?`);
    const removeAccount = db.prepare(`DELETE FROM ${users} WHERE account_id = ?`);
    const withGroupIds = new Map<string, ReadModelStatement>();
    const blocksOf = db.prepare<[string], { block: number; n: number }>(
      `SELECT block, n FROM ${t('scim_user_blocks')} WHERE scope = ? AND n > 0 ORDER BY block`,
    );
    const pageFrom = db.prepare(
      `SELECT ${ROW_COLUMNS} FROM ${users} WHERE scope = ? AND deleted = 0 AND seq >= ? ORDER BY seq ASC LIMIT ? OFFSET ?`,
    );
    const listStatements = new Map<string, ReadModelStatement<unknown[]>>();
    const prepared = (sql: string) => {
      let s = listStatements.get(sql);
      if (!s) {
        s = db.prepare<unknown[]>(sql);
        // Filters are user input compiled to SQL; cap the cache so odd filters cannot grow it.
        if (listStatements.size > 500) listStatements.clear();
        listStatements.set(sql, s);
      }
      return s;
    };


    return {
      table: users,
      // Folds with the decider's own `evolveIdentity`, so a row is what the write side decides with.
      apply(e: RecordedEvent) {
        const event = accountEvents.decode(e);
        if (!event) return;
        switch (event.type) {
          case 'UserProvisioned':
          case 'IdentityLinked': {
            const identity = evolveIdentity(undefined, event) as IdentityState;
            insert.run({
              id: identity.id,
              scope: identity.scope,
              account_id: event.data.accountId,
              seq: Number(e.position),
              at: identity.created,
              version: Number(e.revision),
              ...columns(identity.attributes, identity.active),
            });
            break;
          }
          case 'UserProfileUpdated':
          case 'UserNameChanged':
          case 'ExternIdChanged': {
            const row = byId.get(event.data.identityId) as RawRow | undefined;
            const next = row && evolveIdentity(identityOf(row), event);
            if (next) save.run({ id: next.id, at: next.lastModified, ...columns(next.attributes, next.active), deleted: next.deleted ? 1 : 0 });
            break;
          }
          case 'IdentityDeactivated':
          case 'IdentityReactivated':
          case 'IdentityDeleted':
          case 'IdentityUnlinked': {
            const change = identityStatusChange(event);
            // An unlinked identity no longer exists in its scope: SCIM reads never serve it.
            if (change.unlinked) remove.run(event.data.identityId);
            else setFlags.run({ id: event.data.identityId, active: flag(change.active), deleted: flag(change.deleted), at: event.occurredAt });
            break;
          }
          case 'AccountErased':
            // Erased: SCIM reads 404 and the rows (their values) are gone, not flagged.
            removeAccount.run(event.data.accountId);
            break;
          default:
            break;
        }
        // The resource version is the account stream's revision: every account event moves it.
        // A provisioned account has just this identity, whose row was inserted with it.
        if (event.type !== 'UserProvisioned') bumpVersion.run(Number(e.revision), event.data.accountId);
      },
      get(scope, id) {
        const row = liveById.get(id, scope) as RawRow | undefined;
        return row ? toRow(row) : undefined;
      },
      getWithGroupIds(scope, id, membersTable) {
        let stmt = withGroupIds.get(membersTable);
        if (!stmt) {
          stmt = db.prepare(
            `SELECT ${ROW_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')}, (SELECT json_group_array(m.group_id) FROM "${membersTable}" m WHERE m.identity_id = u.id) AS group_ids
             FROM ${users} u WHERE u.id = ? AND u.scope = ? AND u.deleted = 0`,
          );
          // One entry per generation of the members table: a rebuild adds one.
          if (withGroupIds.size > 4) withGroupIds.clear();
          withGroupIds.set(membersTable, stmt);
        }
        const row = stmt.get(id, scope) as (RawRow & { group_ids: string }) | undefined;
        return row ? { ...toRow(row), groupIds: JSON.parse(row.group_ids) as string[] } : undefined;
      },
      findIdentity(id) {
        const row = identityById.get(id) as Pick<RawRow, 'account_id' | 'scope' | 'deleted'> | undefined;
        return row ? { accountId: row.account_id, scope: row.scope, deleted: row.deleted === 1 } : undefined;
      },
      count(scope, query) {
        if (!query.where) return blocksOf.all(scope).reduce((total, b) => total + b.n, 0);
        const where = ` AND (${query.where.sql})`;
        const r = prepared(`SELECT COUNT(*) AS n FROM ${users} WHERE scope = ? AND deleted = 0${where}`).get(
          scope,
          ...query.where.params,
        ) as { n: number };
        return r.n;
      },
      list(scope, query) {
        if (!query.where && !query.orderBy && query.positions) {
          // A cursor page in creation order: the total from the block counts, the page from one
          // seek into (scope, deleted, seq) at the cursor's position, whatever its depth.
          const total = blocksOf.all(scope).reduce((sum, b) => sum + b.n, 0);
          if (query.limit <= 0) return { total, rows: [] };
          const keyset = query.keyset ? ` AND (${query.keyset.sql})` : '';
          const page = prepared(`SELECT ${ROW_COLUMNS}, seq AS cursor_seq FROM ${users} WHERE scope = ? AND deleted = 0${keyset} ORDER BY seq ASC LIMIT ?`);
          return { total, rows: (page.all(scope, ...(query.keyset?.params ?? []), query.limit) as RawRow[]).map(toRow) };
        }
        if (!query.where && !query.orderBy) {
          const counts = blocksOf.all(scope);
          const total = counts.reduce((sum, b) => sum + b.n, 0);
          if (query.limit <= 0 || query.offset >= total) return { total, rows: [] };
          let skip = query.offset;
          let from = 0;
          for (const b of counts) {
            if (skip < b.n) {
              from = b.block * 2 ** BLOCK_BITS;
              break;
            }
            skip -= b.n;
          }
          return { total, rows: (pageFrom.all(scope, from, query.limit, skip) as RawRow[]).map(toRow) };
        }
        const { total, rows } = runPlan<RawRow>(prepared, this.listPlan(scope, query));
        return { total, rows: rows.map(toRow) };
      },
      listPlan(scope, query) {
        const where = query.where ? ` AND (${query.where.sql})` : '';
        const params = [scope, ...(query.where?.params ?? [])];
        // With a filter, `+seq` keeps SQLite from walking the creation-order index and testing
        // every row: it picks the filter's index (userName, externalId) and sorts the few hits.
        const order = query.orderBy ?? (query.where ? '+seq ASC' : 'seq ASC');
        const keyset = query.keyset ? ` AND (${query.keyset.sql})` : '';
        return {
          count: { sql: `SELECT COUNT(*) AS n FROM ${users} WHERE scope = ? AND deleted = 0${where}`, params },
          page: {
            sql: `SELECT ${ROW_COLUMNS}${positionColumns(query)} FROM ${users} WHERE scope = ? AND deleted = 0${where}${keyset} ORDER BY ${order} LIMIT ? OFFSET ?`,
            params: [...params, ...(query.keyset?.params ?? [])],
          },
          offset: query.offset,
          limit: query.limit,
        };
      },
      toRows: (raw) => (raw as RawRow[]).map(toRow),
    };
  },
};

function columns(attributes: AttributeDocument, active: boolean) {
  const userName = String(attributes.userName ?? '');
  return {
    user_name: userName,
    user_name_folded: foldValue(userName),
    external_id: typeof attributes.externalId === 'string' ? attributes.externalId : null,
    // externalId is the SAML NameID, reserved folded: `externalId eq` must find what a 409 calls taken.
    external_id_folded: typeof attributes.externalId === 'string' ? foldValue(attributes.externalId) : null,
    display_name: typeof attributes.displayName === 'string' ? attributes.displayName : null,
    doc: JSON.stringify({ ...attributes, active }),
    attributes: JSON.stringify(attributes),
    active: active ? 1 : 0,
  };
}

const flag = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);

/**
 * A row as the identity `evolveIdentity` folds. The SAML NameID and SCIM group ids are not kept
 * here (no SCIM read serves them) and no change to what is kept depends on them.
 */
function identityOf(r: RawRow): IdentityState {
  return {
    id: r.id,
    scope: r.scope as IdentityState['scope'],
    userName: r.user_name,
    ...(r.external_id !== null ? { externalId: r.external_id } : {}),
    samlNameId: '',
    attributes: JSON.parse(r.attributes) as AttributeDocument,
    active: r.active === 1,
    deleted: r.deleted === 1,
    unlinked: false,
    created: r.created,
    lastModified: r.last_modified,
    scimGroups: [],
  };
}

/** A cursor page's extra columns: each row's place in the order. */
export function positionColumns(query: ListQuery): string {
  if (!query.positions) return '';
  return `, seq AS cursor_seq${query.positions.keyExpr ? `, ${query.positions.keyExpr} AS cursor_key` : ''}`;
}

/** Where a row of a cursor page sits in its order. */
export function positionOf(r: { cursor_seq?: number; cursor_key?: string | number | null }): { position?: CursorPosition } {
  if (r.cursor_seq === undefined) return {};
  return { position: r.cursor_key === undefined ? { seq: r.cursor_seq } : { seq: r.cursor_seq, key: r.cursor_key } };
}

function toRow(r: RawRow): ScimUserRow {
  return {
    ...positionOf(r),
    id: r.id,
    scope: r.scope,
    accountId: r.account_id,
    seq: r.seq,
    userName: r.user_name,
    externalId: r.external_id,
    attributes: JSON.parse(r.attributes) as AttributeDocument,
    active: r.active === 1,
    deleted: r.deleted === 1,
    created: r.created,
    lastModified: r.last_modified,
    version: String(r.version),
  };
}
