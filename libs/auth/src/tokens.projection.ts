import type { RecordedEvent } from '@app/event-store';
import { type ManagementRole, tokenEvents } from './token.events';
import type { Projection, ProjectionHandle, ReadModelDb, TableNamer } from '@app/projections';

export interface TokenRow {
  readonly id: string;
  readonly kind: 'scim' | 'management';
  readonly scope: string | null;
  readonly role: ManagementRole | null;
  readonly name: string | null;
  readonly sha256: string;
  readonly pii: boolean;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly createdAt: string;
  readonly bootstrap: boolean;
}

/** A token signs in until it is revoked or its expiry has come (the instant of expiry is already too late). */
export function tokenIsActive(t: Pick<TokenRow, 'revokedAt' | 'expiresAt'>, now: Date): boolean {
  return !t.revokedAt && (!t.expiresAt || Date.parse(t.expiresAt) > now.getTime());
}

interface RawToken {
  id: string;
  kind: 'scim' | 'management';
  scope: string | null;
  role: ManagementRole | null;
  name: string | null;
  sha256: string;
  pii: number;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  bootstrap: number;
}

export interface TokensHandle extends ProjectionHandle {
  bySha256(sha256: string): TokenRow | undefined;
  byId(id: string): TokenRow | undefined;
  list(kind: 'scim' | 'management'): TokenRow[];
  hasBootstrapAdmin(): boolean;
  /** Moves on every applied event: lets callers cache look-ups until something changes. */
  readonly version: number;
}

export const tokensProjection: Projection<TokensHandle> = {
  name: 'tokens',
  version: 1,
  tables: ['tokens'],
  eventTypes: ['ScimTokenIssued', 'ScimTokenRevoked', 'ManagementTokenIssued', 'ManagementTokenRevoked'],
  create(db: ReadModelDb, t: TableNamer) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${t('tokens')} (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, scope TEXT, role TEXT, name TEXT, sha256 TEXT NOT NULL UNIQUE,
      pii INTEGER NOT NULL, expires_at TEXT, revoked_at TEXT, created_at TEXT NOT NULL, bootstrap INTEGER NOT NULL)`);
  },
  open(db: ReadModelDb, t: TableNamer): TokensHandle {
    const table = t('tokens');
    const insert = db.prepare(
      `INSERT OR IGNORE INTO ${table} VALUES (@id, @kind, @scope, @role, @name, @sha256, @pii, @expires_at, NULL, @created_at, @bootstrap)`,
    );
    const revoke = db.prepare(`UPDATE ${table} SET revoked_at = ? WHERE id = ?`);
    const bySha = db.prepare(`SELECT * FROM ${table} WHERE sha256 = ?`);
    const byId = db.prepare(`SELECT * FROM ${table} WHERE id = ?`);
    const list = db.prepare(`SELECT * FROM ${table} WHERE kind = ? ORDER BY created_at`);
    const bootstrap = db.prepare(`SELECT 1 FROM ${table} WHERE bootstrap = 1 LIMIT 1`);
    let version = 0;
    return {
      get version() {
        return version;
      },
      apply(e: RecordedEvent) {
        version++;
        const event = tokenEvents.decode(e);
        if (!event) return;
        const at = event.occurredAt;
        switch (event.type) {
          case 'ScimTokenIssued':
            insert.run({
              id: event.data.tokenId,
              kind: 'scim',
              scope: event.data.scope,
              role: null,
              name: event.data.name ?? null,
              sha256: event.data.sha256,
              pii: 0,
              expires_at: event.data.expiresAt ?? null,
              created_at: at,
              bootstrap: 0,
            });
            break;
          case 'ManagementTokenIssued':
            insert.run({
              id: event.data.tokenId,
              kind: 'management',
              scope: null,
              role: event.data.role,
              name: event.data.name ?? null,
              sha256: event.data.sha256,
              pii: event.data.pii ? 1 : 0,
              expires_at: event.data.expiresAt ?? null,
              created_at: at,
              bootstrap: event.data.bootstrap ? 1 : 0,
            });
            break;
          case 'ScimTokenRevoked':
          case 'ManagementTokenRevoked':
            revoke.run(at, event.data.tokenId);
            break;
        }
      },
      bySha256: (sha) => toToken(bySha.get(sha) as RawToken | undefined),
      byId: (id) => toToken(byId.get(id) as RawToken | undefined),
      list: (kind) => (list.all(kind) as RawToken[]).map((r) => toToken(r) as TokenRow),
      hasBootstrapAdmin: () => bootstrap.get() !== undefined,
    };
  },
};

function toToken(r: RawToken | undefined): TokenRow | undefined {
  if (!r) return undefined;
  return {
    id: r.id,
    kind: r.kind,
    scope: r.scope,
    role: r.role,
    name: r.name,
    sha256: r.sha256,
    pii: r.pii === 1,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
    bootstrap: r.bootstrap === 1,
  };
}
