import type { RecordedEvent } from '@app/event-store';
import { ACCESS_LEVELS, type AccessLevelName, groupEvents, type GroupInfo, type LinkRule, samlGroupLinkEvents } from '@app/identity';
import type { Projection, ProjectionHandle, ReadModelDb, TableNamer } from '@app/projections';

export interface GroupRow extends GroupInfo {
  readonly path: string;
  readonly name: string;
  readonly defaultMembershipRole: AccessLevelName;
  readonly created: string;
}

interface RawGroup {
  id: string;
  path: string;
  name: string;
  full_path: string;
  full_path_folded: string;
  parent_id: string | null;
  top_level_id: string;
  default_role: AccessLevelName;
  verified_domains: string;
  created: string;
}

export interface GroupsHandle extends ProjectionHandle {
  byId(id: string): GroupRow | undefined;
  byPath(fullPath: string): GroupRow | undefined;
  /** The group and all its descendants. */
  hierarchy(topLevelId: string): string[];
  all(): GroupRow[];
  domainOwner(domain: string): GroupRow | undefined;
  links(): (LinkRule & { id: string; accessLevel: AccessLevelName; groupPath: string })[];
}

/** GitLab namespaces: path, parent, default membership role, verified domains. */
export const groupsProjection: Projection<GroupsHandle> = {
  name: 'groups',
  version: 1,
  tables: ['groups', 'saml_group_links'],
  eventTypes: ['GroupCreated', 'GroupSettingsChanged', 'SamlGroupLinkAdded', 'SamlGroupLinkRemoved'],
  create(db: ReadModelDb, t: TableNamer) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${t('groups')} (
        id TEXT PRIMARY KEY, path TEXT NOT NULL, name TEXT NOT NULL, full_path TEXT NOT NULL,
        full_path_folded TEXT NOT NULL UNIQUE, parent_id TEXT, top_level_id TEXT NOT NULL,
        default_role TEXT NOT NULL, verified_domains TEXT NOT NULL, created TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS ${t('groups')}_top ON ${t('groups')} (top_level_id);
      CREATE TABLE IF NOT EXISTS ${t('saml_group_links')} (
        id TEXT PRIMARY KEY, saml_group_name TEXT NOT NULL, group_id TEXT NOT NULL, access_level TEXT NOT NULL, created TEXT NOT NULL);`);
  },
  open(db: ReadModelDb, t: TableNamer): GroupsHandle {
    const table = t('groups');
    const insert = db.prepare(
      `INSERT OR REPLACE INTO ${table} VALUES (@id, @path, @name, @full_path, @full_path_folded, @parent_id, @top_level_id, @default_role, @verified_domains, @created)`,
    );
    const byId = db.prepare(`SELECT * FROM ${table} WHERE id = ?`);
    const byPath = db.prepare(`SELECT * FROM ${table} WHERE full_path_folded = ?`);
    const hierarchy = db.prepare(`SELECT id FROM ${table} WHERE top_level_id = ? ORDER BY full_path`);
    const all = db.prepare(`SELECT * FROM ${table} ORDER BY full_path`);
    const setRole = db.prepare(`UPDATE ${table} SET default_role = ? WHERE id = ?`);
    const setDomains = db.prepare(`UPDATE ${table} SET verified_domains = ? WHERE id = ?`);
    const linksTable = t('saml_group_links');
    const addLink = db.prepare(`INSERT OR IGNORE INTO ${linksTable} VALUES (?, ?, ?, ?, ?)`);
    const removeLink = db.prepare(`DELETE FROM ${linksTable} WHERE id = ?`);
    const links = db.prepare(
      `SELECT l.id, l.saml_group_name, l.group_id, l.access_level, g.top_level_id, g.full_path FROM ${linksTable} l
       JOIN ${table} g ON g.id = l.group_id ORDER BY l.created, l.id`,
    );
    return {
      apply(e: RecordedEvent) {
        const event = groupEvents.decode(e) ?? samlGroupLinkEvents.decode(e);
        if (!event) return;
        if (event.type === 'SamlGroupLinkAdded') {
          const d = event.data;
          addLink.run(d.linkId, d.samlGroupName, d.groupId, d.accessLevel, String(e.metadata.occurredAt ?? ''));
        } else if (event.type === 'SamlGroupLinkRemoved') {
          removeLink.run(event.data.linkId);
        } else if (event.type === 'GroupCreated') {
          const d = event.data;
          insert.run({
            id: d.groupId,
            path: d.path,
            name: d.name,
            full_path: d.fullPath,
            full_path_folded: d.fullPath.toLowerCase(),
            parent_id: d.parentId ?? null,
            top_level_id: d.topLevelId,
            default_role: d.defaultMembershipRole,
            verified_domains: JSON.stringify(d.verifiedDomains),
            created: String(e.metadata.occurredAt ?? e.recordedAt.toISOString()),
          });
        } else if (event.type === 'GroupSettingsChanged') {
          if (event.data.defaultMembershipRole) setRole.run(event.data.defaultMembershipRole.to, event.data.groupId);
          if (event.data.verifiedDomains) setDomains.run(JSON.stringify(event.data.verifiedDomains.to), event.data.groupId);
        }
      },
      byId: (id) => toGroup(byId.get(id) as RawGroup | undefined),
      byPath: (fullPath) => toGroup(byPath.get(fullPath.toLowerCase()) as RawGroup | undefined),
      hierarchy: (top) => (hierarchy.all(top) as { id: string }[]).map((r) => r.id),
      all: () => (all.all() as RawGroup[]).map((r) => toGroup(r) as GroupRow),
      links: () =>
        (
          links.all() as { id: string; saml_group_name: string; group_id: string; access_level: AccessLevelName; top_level_id: string; full_path: string }[]
        ).map((r) => ({
          id: r.id,
          samlGroupName: r.saml_group_name,
          groupId: r.group_id,
          topLevelId: r.top_level_id,
          groupPath: r.full_path,
          accessLevel: r.access_level,
          level: ACCESS_LEVELS[r.access_level],
        })),
      domainOwner(domain) {
        const d = domain.toLowerCase();
        return (all.all() as RawGroup[])
          .map((r) => toGroup(r) as GroupRow)
          .find((g) => g.verifiedDomains.some((v) => v.toLowerCase() === d));
      },
    };
  },
};

function toGroup(r: RawGroup | undefined): GroupRow | undefined {
  if (!r) return undefined;
  return {
    id: r.id,
    path: r.path,
    name: r.name,
    fullPath: r.full_path,
    ...(r.parent_id ? { parentId: r.parent_id } : {}),
    topLevelId: r.top_level_id,
    defaultMembershipRole: r.default_role,
    defaultMembershipLevel: ACCESS_LEVELS[r.default_role],
    verifiedDomains: JSON.parse(r.verified_domains) as string[],
    created: r.created,
  };
}
