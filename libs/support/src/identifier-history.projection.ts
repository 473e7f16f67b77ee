import type { RecordedEvent } from '@app/event-store';
import { accountEvents, foldValue, hashIdentifier, sha256ValueHash, type ValueHash } from '@app/identity';
import type { Projection, ProjectionHandle, ReadModelDb, TableNamer } from '@app/projections';

export type IdentifierKind = 'userName' | 'externalId' | 'nameId' | 'email' | 'username' | 'scimId' | 'accountId';

export interface IdentifierSpan {
  readonly kind: IdentifierKind;
  readonly value: string;
  readonly accountId: string;
  readonly identityId: string | null;
  readonly scope: string | null;
  readonly from: string;
  /** null: still held. */
  readonly to: string | null;
}

/** What an erased person's identifier reads as in the history: its value is gone, its keyed hash finds it. */
export const ERASED_VALUE = '[erased]';
const HASHED = 'h:';

export interface IdentifierHistoryHandle extends ProjectionHandle {
  /** Every span in which `value` (any kind, case-insensitively) was held; optionally only at `atMs`. */
  /** `hash`: how erased identifiers were hashed (the composition root's IDENTIFIER_HASH). */
  find(value: string, atMs?: number, hash?: ValueHash): IdentifierSpan[];
  ofAccount(accountId: string): IdentifierSpan[];
}

/**
 * Every identifier a person ever had, with when it was held: userNames, externalIds, SAML
 * NameIDs, emails, account usernames, SCIM ids. Answers "who held X on date D?".
 */
export const identifierHistoryProjection: Projection<IdentifierHistoryHandle> = {
  name: 'identifier-history',
  // v2: values folded by the identifier fold (libs/identity/src/identifier-fold.ts).
  version: 2,
  tables: ['identifier_spans'],
  eventTypes: ['UserProvisioned', 'IdentityLinked', 'UserNameChanged', 'ExternIdChanged', 'EmailChanged', 'IdentityUnlinked', 'AccountErased'],
  create(db: ReadModelDb, t: TableNamer) {
    const s = t('identifier_spans');
    db.exec(`CREATE TABLE IF NOT EXISTS ${s} (
      kind TEXT NOT NULL, value TEXT NOT NULL, folded TEXT NOT NULL, account_id TEXT NOT NULL, identity_id TEXT, scope TEXT,
      from_at TEXT NOT NULL, from_ms INTEGER NOT NULL, to_at TEXT, to_ms INTEGER);
      CREATE INDEX IF NOT EXISTS ${s}_folded ON ${s} (folded);
      CREATE INDEX IF NOT EXISTS ${s}_account ON ${s} (account_id);`);
  },
  open(db: ReadModelDb, t: TableNamer): IdentifierHistoryHandle {
    const s = t('identifier_spans');
    const open = db.prepare(`INSERT INTO ${s} VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`);
    const close = db.prepare(`UPDATE ${s} SET to_at = ?, to_ms = ? WHERE kind = ? AND folded = ? AND account_id = ? AND to_ms IS NULL`);
    const closeIdentity = db.prepare(`UPDATE ${s} SET to_at = ?, to_ms = ? WHERE identity_id = ? AND to_ms IS NULL`);
    const find = db.prepare(`SELECT * FROM ${s} WHERE folded = ? ORDER BY from_ms`);
    const ofAccount = db.prepare(`SELECT * FROM ${s} WHERE account_id = ? ORDER BY from_ms, kind`);
    // Every span goes (a rebuild never sees an erased person's values, so it adds none of their
    // spans); what comes back are the event's keyed hashes, so "who held X" can say "an erased person".
    const eraseValues = db.prepare(`DELETE FROM ${s} WHERE account_id = ?`);
    const erasedSpan = db.prepare(`INSERT INTO ${s} VALUES (?, '${ERASED_VALUE}', ?, ?, ?, ?, ?, ?, ?, ?)`);
    const findHashed = db.prepare(`SELECT * FROM ${s} WHERE folded = ? ORDER BY from_ms`);
    return {
      apply(e: RecordedEvent) {
        const event = accountEvents.decode(e);
        if (!event) return;
        const at = event.occurredAt;
        const ms = Date.parse(at);
        const start = (kind: IdentifierKind, value: string | undefined, accountId: string, identityId: string | null, scope: string | null) => {
          if (value) open.run(kind, value, foldValue(value), accountId, identityId, scope, at, ms);
        };
        const end = (kind: IdentifierKind, value: string | undefined, accountId: string) => {
          if (value) close.run(at, ms, kind, foldValue(value), accountId);
        };
        switch (event.type) {
          case 'UserProvisioned':
          case 'IdentityLinked': {
            const d = event.data;
            if (event.type === 'UserProvisioned') {
              start('accountId', d.accountId, d.accountId, null, null);
              start('username', event.data.username, d.accountId, null, null);
              start('email', event.data.email, d.accountId, null, null);
            }
            start('scimId', d.identityId, d.accountId, d.identityId, d.scope);
            start('userName', d.userName, d.accountId, d.identityId, d.scope);
            start('externalId', d.externalId, d.accountId, d.identityId, d.scope);
            start('nameId', d.samlNameId, d.accountId, d.identityId, d.scope);
            break;
          }
          case 'UserNameChanged':
            end('userName', event.data.from, event.data.accountId);
            start('userName', event.data.to, event.data.accountId, event.data.identityId, event.data.scope);
            break;
          case 'ExternIdChanged':
            end('externalId', event.data.from, event.data.accountId);
            start('externalId', event.data.to, event.data.accountId, event.data.identityId, event.data.scope);
            if (event.data.samlNameIdFrom !== event.data.samlNameIdTo) {
              end('nameId', event.data.samlNameIdFrom, event.data.accountId);
              start('nameId', event.data.samlNameIdTo, event.data.accountId, event.data.identityId, event.data.scope);
            }
            break;
          case 'EmailChanged':
            end('email', event.data.from, event.data.accountId);
            start('email', event.data.to, event.data.accountId, null, null);
            break;
          case 'IdentityUnlinked':
            closeIdentity.run(at, ms, event.data.identityId);
            break;
          case 'AccountErased':
            eraseValues.run(event.data.accountId);
            for (const i of event.data.identifiers ?? []) {
              // A value still held is released (or at least no longer anyone's to sign in with) now.
              const to = i.to ?? at;
              erasedSpan.run(i.kind, `${HASHED}${i.hash}`, event.data.accountId, i.identityId, i.scope, i.from, Date.parse(i.from), to, Date.parse(to));
            }
            break;
          default:
            break;
        }
      },
      find(value, atMs, hash = sha256ValueHash) {
        const rows = [...(find.all(foldValue(value)) as RawSpan[]), ...(findHashed.all(`${HASHED}${hashIdentifier(value, hash)}`) as RawSpan[])].map(toSpan);
        return atMs === undefined ? rows : rows.filter((r) => Date.parse(r.from) <= atMs && (r.to === null || atMs < Date.parse(r.to)));
      },
      ofAccount: (accountId) => (ofAccount.all(accountId) as RawSpan[]).map(toSpan),
    };
  },
};

interface RawSpan {
  kind: IdentifierKind;
  value: string;
  account_id: string;
  identity_id: string | null;
  scope: string | null;
  from_at: string;
  to_at: string | null;
}

function toSpan(r: RawSpan): IdentifierSpan {
  return { kind: r.kind, value: r.value, accountId: r.account_id, identityId: r.identity_id, scope: r.scope, from: r.from_at, to: r.to_at };
}
