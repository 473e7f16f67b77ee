import type { RecordedEvent } from '@app/event-store';
import type { Projection, ProjectionHandle, ReadModelDb, ReadModelStatement, TableNamer } from '@app/projections';
import { type AuditEnvelope, type ChainedEnvelope, isAudited, toAuditEnvelope } from './audit-envelope';

export type { ChainedEnvelope };
import type { SignedCheckpoint } from './checkpoint';
import { canonical, chainHashOfCanonical, GENESIS } from './hash-chain';

/** An envelope as stored and exported: with its place in its scope's hash chain. */
// A value held by more people than this is no longer a search for one person; the first ones are kept.
const MAX_Q_HOLDERS = 200;

export interface AuditQuery {
  readonly sinceMs?: number;
  readonly untilMs?: number;
  readonly where?: { sql: string; params: (string | number)[] };
  readonly q?: string;
  /** Account and identity ids that ever held `q` as an identifier: their records match too. */
  readonly qHolders?: readonly string[];
  readonly descending: boolean;
  /** Exclusive cursor: a global position. */
  readonly after?: number;
  readonly limit: number;
}

export interface AuditHandle extends ProjectionHandle {
  query(q: AuditQuery): ChainedEnvelope[];
  /** Events with position in [from, to], in log order, a page at a time. */
  range(fromPosition: number, toPosition: number): Generator<ChainedEnvelope[]>;
  heads(): { scope: string; hash: string; count: number; position: number }[];
  /** Where a scope's chain stood just before a position: its last record's seq and hash. */
  chainBefore(scope: string, position: number): { seq: number; hash: string } | undefined;
  checkpoints(): SignedCheckpoint[];
  /** SCIM traffic per scope and token in [sinceMs, untilMs): see ProvisioningHealth. */
  health(sinceMs: number, untilMs: number, bucketMs: number): ProvisioningHealth;
}

/**
 * Requests (distinct request ids of SCIM-token events) and refusals per scope, token and time
 * bucket; the commonest refusal reasons; and retry loops: the same refusal (scope, token,
 * method, resource, target, reason, attribute) recorded `LOOP_MIN` times or more.
 */
export interface ProvisioningHealth {
  readonly series: { scope: string; tokenId: string | null; bucket: number; requests: number; refusals: number }[];
  readonly reasons: { scope: string; tokenId: string | null; reason: string; status: number; count: number }[];
  readonly loops: {
    scope: string;
    tokenId: string | null;
    method: string;
    resource: string;
    targetId: string;
    reason: string;
    attribute: string | null;
    count: number;
    firstMs: number;
    lastMs: number;
  }[];
}

export const LOOP_MIN = 3;
const HEALTH_ROWS = 200;

/**
 * The audit log: every fact (reservations excepted) as an envelope with indexed columns for
 * the questions auditors ask, chained per scope with SHA-256 so that any edit, drop or
 * reordering of an exported record is detectable offline. The chain is computed in log
 * order inside the projection's transaction, so a rebuild reproduces every hash.
 */
export const auditProjection: Projection<AuditHandle> = {
  name: 'audit',
  // v2: subject_id (whose data a support read showed), so auditors can filter support reads by person.
  version: 2,
  tables: ['audit_events', 'audit_heads', 'audit_checkpoints'],
  create(db: ReadModelDb, t: TableNamer) {
    const e = t('audit_events');
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${e} (
        position INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, scope TEXT NOT NULL, seq INTEGER NOT NULL,
        target_id TEXT NOT NULL, identity_id TEXT, actor_token_id TEXT, actor_kind TEXT, outcome TEXT NOT NULL,
        correlation_id TEXT, recorded_ms INTEGER NOT NULL, envelope TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
        subject_id TEXT);
      CREATE INDEX IF NOT EXISTS ${e}_target ON ${e} (target_id, position);
      CREATE INDEX IF NOT EXISTS ${e}_identity ON ${e} (identity_id, position) WHERE identity_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS ${e}_scope ON ${e} (scope, position);
      CREATE INDEX IF NOT EXISTS ${e}_type ON ${e} (type, position);
      CREATE INDEX IF NOT EXISTS ${e}_actor ON ${e} (actor_token_id, position);
      CREATE INDEX IF NOT EXISTS ${e}_time ON ${e} (recorded_ms);
      CREATE INDEX IF NOT EXISTS ${e}_subject ON ${e} (subject_id, position) WHERE subject_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ${t('audit_heads')} (scope TEXT PRIMARY KEY, hash TEXT NOT NULL, count INTEGER NOT NULL, position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS ${t('audit_checkpoints')} (scope TEXT NOT NULL, position INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (scope, position));`);
  },
  open(db: ReadModelDb, t: TableNamer): AuditHandle {
    const e = t('audit_events');
    const heads = t('audit_heads');
    const cps = t('audit_checkpoints');
    const insert = db.prepare(
      `INSERT OR IGNORE INTO ${e} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const head = db.prepare(`SELECT hash, count, position FROM ${heads} WHERE scope = ?`);
    // The chain head of each scope as this handle last wrote it. The table stays the truth: an
    // event at or before the cached position means a rolled-back batch is being applied again
    // (projections resume from their checkpoint), so the stored head is read instead.
    const cachedHeads = new Map<string, { hash: string; count: number; position: number }>();
    const setHead = db.prepare(
      `INSERT INTO ${heads} VALUES (?, ?, ?, ?) ON CONFLICT(scope) DO UPDATE SET hash = excluded.hash, count = excluded.count, position = excluded.position`,
    );
    const allHeads = db.prepare(`SELECT scope, hash, count, position FROM ${heads} ORDER BY scope`);
    const addCp = db.prepare(`INSERT OR REPLACE INTO ${cps} VALUES (?, ?, ?)`);
    const allCps = db.prepare(`SELECT body FROM ${cps} ORDER BY position, scope`);
    const before = db.prepare(`SELECT seq, hash FROM ${e} WHERE scope = ? AND position < ? ORDER BY position DESC LIMIT 1`);
    const rangeStmt = db.prepare(`SELECT * FROM ${e} WHERE position >= ? AND position <= ? AND position > ? ORDER BY position LIMIT 1000`);
    const statements = new Map<string, ReadModelStatement<unknown[]>>();
    const prepared = (sql: string) => {
      let s = statements.get(sql);
      if (!s) {
        s = db.prepare<unknown[]>(sql);
        if (statements.size > 200) statements.clear();
        statements.set(sql, s);
      }
      return s;
    };
    return {
      apply(event: RecordedEvent) {
        if (event.type === 'AuditCheckpointSigned') {
          // Checkpoints are events too (outside the chain), so a rebuild keeps them.
          const c = event.data as unknown as SignedCheckpoint;
          addCp.run(c.scope, Number(c.position), JSON.stringify(c));
          return;
        }
        if (!isAudited(event)) return;
        const env = toAuditEnvelope(event);
        const position = Number(event.position);
        let current = cachedHeads.get(env.scope);
        if (!current || position <= current.position) {
          current = (head.get(env.scope) as { hash: string; count: number; position: number } | undefined) ?? {
            hash: GENESIS,
            count: 0,
            position: -1,
          };
        }
        // Stored in its canonical form: one serialisation serves both the hash and the row.
        const text = canonical(env);
        const hash = chainHashOfCanonical(current.hash, text);
        const actor = env.actor as { kind?: string; tokenId?: string };
        // Positional, in column order: binding by name costs a property look-up per column.
        insert.run(
          position,
          env.id,
          env.type,
          env.scope,
          current.count + 1,
          env.target.id,
          env.target.identityId ?? null,
          actor.tokenId ?? null,
          actor.kind ?? null,
          env.outcome,
          env.correlationId ?? null,
          event.recordedAt.getTime(),
          text,
          current.hash,
          hash,
          subjectOf(env),
        );
        setHead.run(env.scope, hash, current.count + 1, position);
        cachedHeads.set(env.scope, { hash, count: current.count + 1, position });
      },
      query(q) {
        const clauses: string[] = [];
        const params: (string | number)[] = [];
        const add = (clause: string, ...values: (string | number)[]) => {
          clauses.push(clause);
          params.push(...values);
        };
        if (q.sinceMs !== undefined) add('recorded_ms >= ?', q.sinceMs);
        if (q.untilMs !== undefined) add('recorded_ms < ?', q.untilMs);
        if (q.after !== undefined) add(q.descending ? 'position < ?' : 'position > ?', q.after);
        if (q.where) add(`(${q.where.sql})`, ...q.where.params);
        if (q.q) {
          const holders = (q.qHolders ?? []).slice(0, MAX_Q_HOLDERS);
          const held = holders.length ? ` OR target_id IN (${holders.map(() => '?').join(',')}) OR identity_id IN (${holders.map(() => '?').join(',')})` : '';
          clauses.push(`(instr(type, ?) > 0 OR target_id = ? OR identity_id = ? OR actor_token_id = ? OR correlation_id = ?${held})`);
          params.push(q.q, q.q, q.q, q.q, q.q, ...holders, ...holders);
        }
        const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
        const rows = prepared(`SELECT * FROM ${e} ${where} ORDER BY position ${q.descending ? 'DESC' : 'ASC'} LIMIT ?`).all(...params, q.limit);
        return (rows as RawAudit[]).map(toChained);
      },
      *range(from, to) {
        let after = from - 1;
        for (;;) {
          const rows = (rangeStmt.all(from, to, after) as RawAudit[]).map(toChained);
          if (rows.length === 0) return;
          yield rows;
          after = Number(rows[rows.length - 1].position);
        }
      },
      heads: () => allHeads.all() as { scope: string; hash: string; count: number; position: number }[],
      chainBefore: (scope, position) => before.get(scope, position) as { seq: number; hash: string } | undefined,
      checkpoints: () => (allCps.all() as { body: string }[]).map((r) => JSON.parse(r.body) as SignedCheckpoint),
      health(sinceMs, untilMs, bucketMs) {
        // Grouped in SQL over the time index: one pass over the window, bounded output.
        const window = `recorded_ms >= ? AND recorded_ms < ? AND actor_kind = 'scim_token'`;
        const series = prepared(
          `SELECT scope, actor_token_id AS tokenId, CAST((recorded_ms - ?) / ? AS INTEGER) AS bucket, COUNT(DISTINCT correlation_id) AS requests,
             COUNT(DISTINCT CASE WHEN outcome = 'rejected' THEN correlation_id END) AS refusals
           FROM ${e} WHERE ${window} GROUP BY scope, actor_token_id, bucket ORDER BY scope, actor_token_id, bucket`,
        ).all(sinceMs, bucketMs, sinceMs, untilMs) as ProvisioningHealth['series'];
        const reasons = prepared(
          `SELECT scope, actor_token_id AS tokenId, json_extract(envelope, '$.data.reason') AS reason, json_extract(envelope, '$.data.status') AS status, COUNT(*) AS count
           FROM ${e} WHERE ${window} AND outcome = 'rejected' GROUP BY scope, actor_token_id, reason, status ORDER BY count DESC LIMIT ${HEALTH_ROWS}`,
        ).all(sinceMs, untilMs) as ProvisioningHealth['reasons'];
        const loops = prepared(
          `SELECT scope, actor_token_id AS tokenId, json_extract(envelope, '$.data.method') AS method, json_extract(envelope, '$.data.resource') AS resource,
             target_id AS targetId, json_extract(envelope, '$.data.reason') AS reason, json_extract(envelope, '$.data.attribute') AS attribute,
             COUNT(*) AS count, MIN(recorded_ms) AS firstMs, MAX(recorded_ms) AS lastMs
           FROM ${e} WHERE ${window} AND outcome = 'rejected'
           GROUP BY scope, actor_token_id, method, resource, target_id, reason, attribute HAVING COUNT(*) >= ${LOOP_MIN}
           ORDER BY count DESC LIMIT ${HEALTH_ROWS}`,
        ).all(sinceMs, untilMs) as ProvisioningHealth['loops'];
        return { series, reasons, loops };
      },
    };
  },
};

interface RawAudit {
  envelope: string;
  seq: number;
  prev_hash: string;
  hash: string;
}

function toChained(r: RawAudit): ChainedEnvelope {
  return { ...(JSON.parse(r.envelope) as AuditEnvelope), seq: r.seq, prevHash: r.prev_hash, hash: r.hash };
}

/** Whose data a support read showed (the envelope's target is the reads stream; the chain hashes the envelope as it is). */
function subjectOf(env: AuditEnvelope): string | null {
  const subject = env.type === 'SupportDataRead' ? (env.data as { subject?: unknown }).subject : undefined;
  return typeof subject === 'string' ? subject : null;
}
