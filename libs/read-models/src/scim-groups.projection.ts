import type { RecordedEvent } from '@app/event-store';
import { accountEvents, foldValue, occurredAtOf, scimGroupEvents } from '@app/identity';
import type { Projection, ProjectionHandle, ReadModelDb, ReadModelStatement, TableNamer } from '@app/projections';
import type { CursorPosition } from '@app/scim';
import { type ListPlan, type ListQuery, runPlan } from './scan-pool';
import { positionColumns, positionOf } from './scim-users.projection';

export interface ScimGroupRow {
  readonly id: string;
  readonly scope: string;
  readonly displayName: string;
  readonly externalId: string | null;
  readonly created: string;
  readonly lastModified: string;
  /** meta.version: the log position of the last event that changed the group or its members. */
  readonly version: string;
  /** Revision of the group's own stream, which a write's If-Match is checked against. */
  readonly revision: bigint;
  /** On a cursor page only: where the row sits in the page's order. */
  readonly position?: CursorPosition;
}

interface RawGroup {
  id: string;
  scope: string;
  display_name: string;
  external_id: string | null;
  created: string;
  last_modified: string;
  version: number;
  revision: number;
  cursor_seq?: number;
  cursor_key?: string | number | null;
}

export interface ScimGroupsHandle extends ProjectionHandle {
  readonly table: string;
  /** Physical name of the membership table, for queries that join it. */
  readonly membersTable: string;
  get(scope: string, id: string): ScimGroupRow | undefined;
  byIds(ids: readonly string[]): ScimGroupRow[];
  list(scope: string, query: ListQuery): { total: number; rows: ScimGroupRow[] };
  /** The same list as SQL, for a scan worker (see ScanPool). */
  listPlan(scope: string, query: ListQuery): ListPlan;
  /** Rows as a plan's page returns them, as `list` returns them. */
  toRows(raw: readonly unknown[]): ScimGroupRow[];
  members(groupId: string): { identityId: string; accountId: string }[];
  memberCount(groupId: string): number;
  groupsOf(identityId: string): string[];
  /** The same for many identities in one query (a page of users). */
  groupsOfMany(identityIds: readonly string[]): Map<string, string[]>;
  /** Groups (live) whose displayName, trimmed, equals `name`. */
  byDisplayName(name: string): ScimGroupRow[];
}

export const GROUPS_JSON_COLUMN = 'doc';

/** SCIM groups per scope, and their members (from the members' account streams). */
export const scimGroupsProjection: Projection<ScimGroupsHandle> = {
  name: 'scim-groups',
  // v2: displayName folded by the identifier fold; meta.version moves with membership changes.
  version: 2,
  tables: ['scim_groups', 'scim_group_members'],
  eventTypes: ['ScimGroupCreated', 'ScimGroupRenamed', 'ScimGroupExternalIdChanged', 'ScimGroupDeleted', 'ScimGroupMembersAdded', 'ScimGroupMembersRemoved', 'AccountErased'],
  create(db: ReadModelDb, t: TableNamer) {
    const g = t('scim_groups');
    const m = t('scim_group_members');
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${g} (
        id TEXT PRIMARY KEY, scope TEXT NOT NULL, seq INTEGER NOT NULL, display_name TEXT NOT NULL,
        display_name_folded TEXT NOT NULL, display_name_trimmed TEXT NOT NULL, external_id TEXT, ${GROUPS_JSON_COLUMN} TEXT NOT NULL,
        deleted INTEGER NOT NULL, created TEXT NOT NULL, last_modified TEXT NOT NULL, version INTEGER NOT NULL, revision INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS ${g}_scope_seq ON ${g} (scope, deleted, seq);
      CREATE INDEX IF NOT EXISTS ${g}_scope_name ON ${g} (scope, display_name_folded);
      CREATE INDEX IF NOT EXISTS ${g}_trimmed ON ${g} (display_name_trimmed);
      CREATE TABLE IF NOT EXISTS ${m} (
        group_id TEXT NOT NULL, identity_id TEXT NOT NULL, account_id TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (group_id, identity_id));
      CREATE INDEX IF NOT EXISTS ${m}_identity ON ${m} (identity_id);`);
  },
  open(db: ReadModelDb, t: TableNamer): ScimGroupsHandle {
    const g = t('scim_groups');
    const m = t('scim_group_members');
    const insert = db.prepare(
      `INSERT OR IGNORE INTO ${g} VALUES (@id, @scope, @seq, @name, @folded, @trimmed, @external_id, @doc, 0, @at, @at, @version, @revision)`,
    );
    const byIdRaw = db.prepare(`SELECT * FROM ${g} WHERE id = ?`);
    const rename = db.prepare(
      `UPDATE ${g} SET display_name = @name, display_name_folded = @folded, display_name_trimmed = @trimmed, ${GROUPS_JSON_COLUMN} = @doc, last_modified = @at, version = @version, revision = @revision WHERE id = @id`,
    );
    const setExternal = db.prepare(
      `UPDATE ${g} SET external_id = @external_id, ${GROUPS_JSON_COLUMN} = @doc, last_modified = @at, version = @version, revision = @revision WHERE id = @id`,
    );
    const markDeleted = db.prepare(`UPDATE ${g} SET deleted = 1, last_modified = ?, version = ?, revision = ? WHERE id = ?`);
    // Members live in the members' account streams: their events move the group's version too,
    // so that If-None-Match and If-Match see a membership change.
    const touch = db.prepare(`UPDATE ${g} SET last_modified = ?, version = ? WHERE id = ?`);
    const addMember = db.prepare(`INSERT OR IGNORE INTO ${m} VALUES (?, ?, ?, ?)`);
    const removeMember = db.prepare(`DELETE FROM ${m} WHERE group_id = ? AND identity_id = ?`);
    // Erasures are rare: a scan of the members table beats an index every membership write pays for.
    const groupsOfAccount = db.prepare<[string], { group_id: string }>(`SELECT DISTINCT group_id FROM ${m} WHERE account_id = ?`);
    const removeAccount = db.prepare(`DELETE FROM ${m} WHERE account_id = ?`);
    const live = db.prepare(`SELECT * FROM ${g} WHERE id = ? AND scope = ? AND deleted = 0`);
    const members = db.prepare(`SELECT identity_id, account_id FROM ${m} WHERE group_id = ? ORDER BY seq, identity_id`);
    const memberCount = db.prepare(`SELECT COUNT(*) AS n FROM ${m} WHERE group_id = ?`);
    const groupsOf = db.prepare(`SELECT group_id FROM ${m} WHERE identity_id = ?`);
    const groupsOfMany = db.prepare<[string], { identity_id: string; group_id: string }>(
      `SELECT identity_id, group_id FROM ${m} WHERE identity_id IN (SELECT value FROM json_each(?))`,
    );
    const byName = db.prepare(`SELECT * FROM ${g} WHERE display_name_trimmed = ? AND deleted = 0`);
    const statements = new Map<string, ReadModelStatement<unknown[]>>();
    const prepared = (sql: string) => {
      let s = statements.get(sql);
      if (!s) {
        s = db.prepare<unknown[]>(sql);
        if (statements.size > 500) statements.clear();
        statements.set(sql, s);
      }
      return s;
    };
    const doc = (name: string, externalId: string | null) => JSON.stringify({ displayName: name, ...(externalId ? { externalId } : {}) });
    return {
      table: g,
      membersTable: m,
      apply(e: RecordedEvent) {
        const at = occurredAtOf(e);
        // Membership events live on the members' account streams: the account family's.
        const event = scimGroupEvents.decode(e) ?? accountEvents.decode(e);
        if (!event) return;
        switch (event.type) {
          case 'ScimGroupCreated': {
            const d = event.data;
            insert.run({
              id: d.groupId,
              scope: d.scope,
              seq: Number(e.position),
              name: d.displayName,
              folded: foldValue(d.displayName),
              trimmed: d.displayName.trim(),
              external_id: d.externalId ?? null,
              doc: doc(d.displayName, d.externalId ?? null),
              at,
              version: Number(e.position),
              revision: Number(e.revision),
            });
            break;
          }
          case 'ScimGroupRenamed': {
            const row = byIdRaw.get(event.data.groupId) as RawGroup | undefined;
            rename.run({
              id: event.data.groupId,
              name: event.data.to,
              folded: foldValue(event.data.to),
              trimmed: event.data.to.trim(),
              doc: doc(event.data.to, row?.external_id ?? null),
              at,
              version: Number(e.position),
              revision: Number(e.revision),
            });
            break;
          }
          case 'ScimGroupExternalIdChanged': {
            const row = byIdRaw.get(event.data.groupId) as RawGroup | undefined;
            setExternal.run({
              id: event.data.groupId,
              external_id: event.data.to ?? null,
              doc: doc(row?.display_name ?? '', event.data.to ?? null),
              at,
              version: Number(e.position),
              revision: Number(e.revision),
            });
            break;
          }
          case 'ScimGroupDeleted':
            markDeleted.run(at, Number(e.position), Number(e.revision), event.data.groupId);
            break;
          case 'ScimGroupMembersAdded':
            for (const id of event.data.members) addMember.run(event.data.groupId, id, event.data.accountId, Number(e.position));
            touch.run(at, Number(e.position), event.data.groupId);
            break;
          case 'ScimGroupMembersRemoved':
            for (const id of event.data.members) removeMember.run(event.data.groupId, id);
            touch.run(at, Number(e.position), event.data.groupId);
            break;
          case 'AccountErased': {
            // An erased person leaves every group: the groups' versions move as on a removal.
            const groups = groupsOfAccount.all(event.data.accountId);
            removeAccount.run(event.data.accountId);
            for (const { group_id } of groups) touch.run(at, Number(e.position), group_id);
            break;
          }
          default:
            break;
        }
      },
      get(scope, id) {
        const r = live.get(id, scope) as RawGroup | undefined;
        return r ? toRow(r) : undefined;
      },
      byIds(ids) {
        return ids.map((id) => byIdRaw.get(id) as (RawGroup & { deleted: number }) | undefined).filter((r) => r && r.deleted === 0).map((r) => toRow(r as RawGroup));
      },
      list(scope, query) {
        const { total, rows } = runPlan<RawGroup>(prepared, this.listPlan(scope, query));
        return { total, rows: rows.map(toRow) };
      },
      listPlan(scope, query) {
        const where = query.where ? ` AND (${query.where.sql})` : '';
        const params = [scope, ...(query.where?.params ?? [])];
        const keyset = query.keyset ? ` AND (${query.keyset.sql})` : '';
        return {
          count: { sql: `SELECT COUNT(*) AS n FROM ${g} WHERE scope = ? AND deleted = 0${where}`, params },
          page: {
            sql: `SELECT *${positionColumns(query)} FROM ${g} WHERE scope = ? AND deleted = 0${where}${keyset} ORDER BY ${query.orderBy ?? (query.where ? '+seq ASC' : 'seq ASC')} LIMIT ? OFFSET ?`,
            params: [...params, ...(query.keyset?.params ?? [])],
          },
          offset: query.offset,
          limit: query.limit,
        };
      },
      toRows: (raw) => (raw as RawGroup[]).map(toRow),
      members: (groupId) => (members.all(groupId) as { identity_id: string; account_id: string }[]).map((r) => ({ identityId: r.identity_id, accountId: r.account_id })),
      memberCount: (groupId) => (memberCount.get(groupId) as { n: number }).n,
      groupsOf: (identityId) => (groupsOf.all(identityId) as { group_id: string }[]).map((r) => r.group_id),
      groupsOfMany(identityIds) {
        const byIdentity = new Map<string, string[]>();
        if (identityIds.length === 0) return byIdentity;
        for (const r of groupsOfMany.all(JSON.stringify(identityIds))) {
          const list = byIdentity.get(r.identity_id);
          if (list) list.push(r.group_id);
          else byIdentity.set(r.identity_id, [r.group_id]);
        }
        return byIdentity;
      },
      byDisplayName: (name) => (byName.all(name.trim()) as RawGroup[]).map(toRow),
    };
  },
};

function toRow(r: RawGroup): ScimGroupRow {
  return {
    ...positionOf(r),
    id: r.id,
    scope: r.scope,
    displayName: r.display_name,
    externalId: r.external_id,
    created: r.created,
    lastModified: r.last_modified,
    version: String(r.version),
    revision: BigInt(r.revision),
  };
}
