import type { ChainedEnvelope } from './audit-envelope';

export const CSV_COLUMNS = [
  'event_id',
  'position',
  'recorded_at',
  'occurred_at',
  'type',
  'scope',
  'actor_kind',
  'actor_token_id',
  'target_type',
  'target_id',
  'outcome',
  'change_path',
  'change_from',
  'change_to',
] as const;

export const CSV_HEADER = CSV_COLUMNS.join(',');

/**
 * The CSV rows (one per change, at least one per event) that show one exported event, each
 * without its line break. The verifier rebuilds them from the NDJSON record and compares, so
 * the CSV an auditor opens in a spreadsheet is proven to say what the chained records say.
 */
export function csvRowsOf(r: ChainedEnvelope): string[] {
  const actor = (r.actor ?? {}) as { kind?: unknown; tokenId?: unknown };
  const target = (r.target ?? {}) as { type?: unknown; id?: unknown };
  const base = [r.id, r.position, r.recordedAt, r.occurredAt, r.type, r.scope, actor.kind, actor.tokenId, target.type, target.id, r.outcome].map(text);
  const changes = Array.isArray(r.changes) && r.changes.length ? r.changes : [{ path: '', from: undefined, to: undefined }];
  return changes.map((c) => [...base, text(c.path), json(c.from), json(c.to)].map(csvCell).join(','));
}

/** All rows of one event, each ending with a line break: a slice of the CSV export. */
export function csvText(r: ChainedEnvelope): string {
  let out = '';
  for (const row of csvRowsOf(r)) out += `${row}\n`;
  return out;
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

function json(v: unknown): string {
  return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * RFC 4180 quoting. A cell a spreadsheet would run as a formula (leading = + - @, and TAB or
 * CR, which some spreadsheets strip before looking at the next character) gets a leading
 * apostrophe (OWASP's CSV injection advice).
 */
export function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Splits one CSV row (RFC 4180, as written above) into its cells, to say which one differs. */
export function csvCells(row: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (row[i] === '"') {
      i++;
      for (;;) {
        const q = row.indexOf('"', i);
        if (q < 0) {
          cell += row.slice(i);
          i = row.length;
          break;
        }
        cell += row.slice(i, q);
        if (row[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const comma = row.indexOf(',', i);
      const end = comma < 0 ? row.length : comma;
      cell = row.slice(i, end);
      i = end;
    }
    cells.push(cell);
    if (row[i] !== ',') return cells;
    i++;
  }
}
