import { InvalidCommand } from '@app/identity';
import type { AuditQuery, ChainedEnvelope } from './audit.projection';
import { auditRange, auditTime, decodeCursor, encodeCursor, rejectionsOfTargets } from './audit-params';

describe('audit request parameters', () => {
  it('cursors round-trip and a foreign cursor is refused', () => {
    expect(encodeCursor(42)).toBe('cDo0Mg');
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(() => decodeCursor(Buffer.from('p:-1').toString('base64url'))).toThrow(new InvalidCommand('after is not a cursor this server issued', 'after'));
    expect(() => decodeCursor('garbage')).toThrow(InvalidCommand);
  });

  it('times are RFC 3339, named in the error', () => {
    expect(auditTime('2026-05-01T00:00:00Z', 'since')).toBe(Date.UTC(2026, 4, 1));
    expect(() => auditTime('tomorrow', 'until')).toThrow(new InvalidCommand('until must be an RFC 3339 time', 'until'));
  });

  describe('auditRange', () => {
    const asked: AuditQuery[] = [];
    const rows = [5, 9, 12].map((p) => ({ position: String(p) }) as ChainedEnvelope);
    const audit = {
      query(q: AuditQuery) {
        asked.push(q);
        return q.descending ? rows.slice(-1) : rows.slice(0, 1);
      },
    };
    beforeEach(() => (asked.length = 0));

    it('takes explicit positions as they are (open ends filled), without a query', () => {
      expect(auditRange(audit, { fromPosition: '7' })).toEqual({ from: 7, to: Number.MAX_SAFE_INTEGER });
      expect(auditRange(audit, { toPosition: '9', since: 'ignored' })).toEqual({ from: 0, to: 9 });
      expect(() => auditRange(audit, { fromPosition: 'x' })).toThrow(new InvalidCommand('fromPosition and toPosition must be integers', 'fromPosition'));
      expect(asked).toEqual([]);
    });

    it('turns a time range into the positions of its first and last record', () => {
      expect(auditRange(audit, { since: '2026-05-01T00:00:00Z' })).toEqual({ from: 5, to: 12 });
      expect(asked).toEqual([
        { sinceMs: Date.UTC(2026, 4, 1), descending: false, limit: 1 },
        { sinceMs: Date.UTC(2026, 4, 1), descending: true, limit: 1 },
      ]);
      expect(auditRange({ query: () => [] }, {})).toEqual({ from: 1, to: 0 });
    });
  });

  it('asks for the refusals about some targets, in log order', () => {
    expect(rejectionsOfTargets(['a', 'b'], 10)).toEqual({ where: { sql: "outcome = 'rejected' AND target_id IN (?, ?)", params: ['a', 'b'] }, descending: false, limit: 10 });
  });
});
