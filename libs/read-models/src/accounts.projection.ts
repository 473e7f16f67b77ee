import type { RecordedEvent } from '@app/event-store';
import { ACCESS_LEVELS, accountEvents, accessLevelName, type AccessLevelName } from '@app/identity';
import type { Projection, ProjectionHandle, ReadModelDb, TableNamer } from '@app/projections';

export interface AccountRow {
  readonly id: string;
  readonly username: string;
  readonly email: string | null;
  readonly state: 'active' | 'blocked';
}

export interface MemberRow {
  readonly accountId: string;
  readonly username: string;
  readonly accessLevel: AccessLevelName;
  readonly source: string;
  readonly state: 'active' | 'blocked';
}

export interface AccountsHandle extends ProjectionHandle {
  byId(id: string): AccountRow | undefined;
  members(groupId: string): MemberRow[];
  /** Members in account-id order after `afterAccountId`, at most `limit`: for reading a huge group in slices. */
  membersPage(groupId: string, afterAccountId: string, limit: number): MemberRow[];
  membershipsOf(accountId: string): { groupId: string; accessLevel: AccessLevelName; source: string }[];
  /** Groups among `groupIds` where the account is the only owner. */
  soleOwnerGroups(accountId: string, groupIds: readonly string[]): string[];
}

/** Accounts and their effective group memberships (highest level across sources). */
export const accountsProjection: Projection<AccountsHandle> = {
  name: 'accounts',
  version: 1,
  tables: ['accounts', 'memberships'],
  eventTypes: ['UserProvisioned', 'EmailChanged', 'UserBlocked', 'UserUnblocked', 'GroupMembershipChanged', 'AccountErased'],
  create(db: ReadModelDb, t: TableNamer) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${t('accounts')} (
        id TEXT PRIMARY KEY, username TEXT NOT NULL, email TEXT, state TEXT NOT NULL, created TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t('memberships')} (
        group_id TEXT NOT NULL, account_id TEXT NOT NULL, access_level INTEGER NOT NULL, source TEXT NOT NULL,
        sources TEXT NOT NULL, PRIMARY KEY (group_id, account_id));
      CREATE INDEX IF NOT EXISTS ${t('memberships')}_account ON ${t('memberships')} (account_id);
      CREATE INDEX IF NOT EXISTS ${t('memberships')}_level ON ${t('memberships')} (group_id, access_level);`);
  },
  open(db: ReadModelDb, t: TableNamer): AccountsHandle {
    const accounts = t('accounts');
    const memberships = t('memberships');
    const insert = db.prepare(`INSERT OR IGNORE INTO ${accounts} VALUES (?, ?, ?, 'active', ?)`);
    const setEmail = db.prepare(`UPDATE ${accounts} SET email = ? WHERE id = ?`);
    const setState = db.prepare(`UPDATE ${accounts} SET state = ? WHERE id = ?`);
    const byId = db.prepare(`SELECT id, username, email, state FROM ${accounts} WHERE id = ?`);
    const membership = db.prepare(`SELECT sources FROM ${memberships} WHERE group_id = ? AND account_id = ?`);
    const upsert = db.prepare(
      `INSERT INTO ${memberships} VALUES (?, ?, ?, ?, ?) ON CONFLICT(group_id, account_id)
       DO UPDATE SET access_level = excluded.access_level, source = excluded.source, sources = excluded.sources`,
    );
    const remove = db.prepare(`DELETE FROM ${memberships} WHERE group_id = ? AND account_id = ?`);
    const eraseAccount = db.prepare(`DELETE FROM ${accounts} WHERE id = ?`);
    const eraseMemberships = db.prepare(`DELETE FROM ${memberships} WHERE account_id = ?`);
    const members = db.prepare(
      `SELECT m.account_id, a.username, m.access_level, m.source, a.state FROM ${memberships} m
       JOIN ${accounts} a ON a.id = m.account_id WHERE m.group_id = ? ORDER BY a.username`,
    );
    const membersPage = db.prepare(
      `SELECT m.account_id, a.username, m.access_level, m.source, a.state FROM ${memberships} m
       JOIN ${accounts} a ON a.id = m.account_id WHERE m.group_id = ? AND m.account_id > ? ORDER BY m.account_id LIMIT ?`,
    );
    const of = db.prepare(`SELECT group_id, access_level, source FROM ${memberships} WHERE account_id = ?`);
    const owners = db.prepare(
      `SELECT COUNT(*) AS n FROM ${memberships} WHERE group_id = ? AND access_level = ${ACCESS_LEVELS.owner} AND account_id != ?`,
    );
    const ownerOf = db.prepare(
      `SELECT 1 FROM ${memberships} WHERE group_id = ? AND account_id = ? AND access_level = ${ACCESS_LEVELS.owner}`,
    );
    return {
      apply(e: RecordedEvent) {
        const event = accountEvents.decode(e);
        if (!event) return;
        switch (event.type) {
          case 'UserProvisioned':
            insert.run(event.data.accountId, event.data.username, event.data.email ?? null, String(e.metadata.occurredAt ?? ''));
            break;
          case 'EmailChanged':
            setEmail.run(event.data.to ?? null, event.data.accountId);
            break;
          case 'UserBlocked':
            setState.run('blocked', event.data.accountId);
            break;
          case 'UserUnblocked':
            setState.run('active', event.data.accountId);
            break;
          case 'AccountErased':
            eraseMemberships.run(event.data.accountId);
            eraseAccount.run(event.data.accountId);
            break;
          case 'GroupMembershipChanged': {
            const d = event.data;
            const row = membership.get(d.groupId, d.accountId) as { sources: string } | undefined;
            const sources: Record<string, number> = row ? (JSON.parse(row.sources) as Record<string, number>) : {};
            if (d.to === null) delete sources[d.source];
            else sources[d.source] = d.to;
            const entries = Object.entries(sources);
            if (entries.length === 0) {
              remove.run(d.groupId, d.accountId);
            } else {
              const [source, level] = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
              upsert.run(d.groupId, d.accountId, level, source, JSON.stringify(sources));
            }
            break;
          }
          default:
            break;
        }
      },
      byId: (id) => byId.get(id) as AccountRow | undefined,
      members: (groupId) => (members.all(groupId) as MemberSqlRow[]).map(memberRow),
      membersPage: (groupId, afterAccountId, limit) => (membersPage.all(groupId, afterAccountId, limit) as MemberSqlRow[]).map(memberRow),
      membershipsOf: (accountId) =>
        (of.all(accountId) as { group_id: string; access_level: number; source: string }[]).map((r) => ({
          groupId: r.group_id,
          accessLevel: accessLevelName(r.access_level),
          source: r.source,
        })),
      soleOwnerGroups: (accountId, groupIds) =>
        groupIds.filter((g) => ownerOf.get(g, accountId) !== undefined && (owners.get(g, accountId) as { n: number }).n === 0),
    };
  },
};

interface MemberSqlRow {
  account_id: string;
  username: string;
  access_level: number;
  source: string;
  state: 'active' | 'blocked';
}

function memberRow(r: MemberSqlRow): MemberRow {
  return { accountId: r.account_id, username: r.username, accessLevel: accessLevelName(r.access_level), source: r.source, state: r.state };
}
