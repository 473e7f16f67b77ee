import { InvalidCommand } from '@app/identity';
import { LOOP_MIN } from './audit.projection';
import { healthReport, healthWindow } from './provisioning-health';

const NOW = Date.UTC(2026, 4, 2, 12);
const HOUR = 3_600_000;

describe('provisioning health', () => {
  it('the window: 24 hours before until (default now) in 48 buckets, bounded', () => {
    expect(healthWindow({}, NOW)).toEqual({ sinceMs: NOW - 24 * HOUR, untilMs: NOW, buckets: 48, bucketMs: 30 * 60_000 });
    expect(healthWindow({ since: '2026-05-02T11:59:59Z', buckets: '200' }, NOW).bucketMs).toBe(1000);
    expect(() => healthWindow({ since: '2026-05-02T13:00:00Z' }, NOW)).toThrow(new InvalidCommand('since must lie before until', 'since'));
    expect(() => healthWindow({ since: '2026-03-01T00:00:00Z' }, NOW)).toThrow(new InvalidCommand('the window may span at most 31 days', 'since'));
    expect(() => healthWindow({ buckets: '0' }, NOW)).toThrow(new InvalidCommand('buckets must be an integer from 1 to 200', 'buckets'));
    expect(() => healthWindow({ until: 'now' }, NOW)).toThrow(new InvalidCommand('until must be an RFC 3339 time', 'until'));
  });

  it('the report: series per scope and token, top reasons, loops with names and accounts', () => {
    const w = { sinceMs: NOW - 4 * HOUR, untilMs: NOW, buckets: 4, bucketMs: HOUR };
    const names = { scopeName: (s: string) => (s === 'group:g1' ? 'group acme' : s), tokenName: (id: string) => (id === 't1' ? 'okta' : undefined), accountOf: (id: string) => (id === 'i1' ? 'a1' : null), holdersOf: () => [] };
    const report = healthReport(
      {
        series: [
          { scope: 'group:g1', tokenId: 't1', bucket: 0, requests: 3, refusals: 1 },
          { scope: 'group:g1', tokenId: 't1', bucket: 3, requests: 2, refusals: 2 },
          { scope: 'group:g1', tokenId: 't1', bucket: 9, requests: 7, refusals: 7 },
          { scope: 'application', tokenId: null, bucket: 1, requests: 1, refusals: 0 },
        ],
        reasons: [
          { scope: 'group:g1', tokenId: 't1', reason: 'uniqueness', status: 409, count: 3 },
          { scope: 'application', tokenId: null, reason: 'invalid_value', status: 400, count: 1 },
        ],
        loops: [{ scope: 'group:g1', tokenId: 't1', method: 'PUT', resource: 'Users', targetId: 'i1', reason: 'uniqueness', attribute: 'userName', count: 3, firstMs: NOW - 3 * HOUR, lastMs: NOW - HOUR }],
      },
      w,
      names,
    );
    expect(report).toEqual({
      since: '2026-05-02T08:00:00.000Z',
      until: '2026-05-02T12:00:00.000Z',
      bucketSeconds: 3600,
      loopThreshold: LOOP_MIN,
      sources: [
        { scope: 'group:g1', tokenId: 't1', requests: [3, 0, 0, 2], refusals: [1, 0, 0, 2], scopeName: 'group acme', tokenName: 'okta', totalRequests: 5, totalRefusals: 3, reasons: [{ reason: 'uniqueness', status: 409, count: 3 }] },
        { scope: 'application', tokenId: null, requests: [0, 1, 0, 0], refusals: [0, 0, 0, 0], scopeName: 'application', tokenName: null, totalRequests: 1, totalRefusals: 0, reasons: [{ reason: 'invalid_value', status: 400, count: 1 }] },
      ],
      loops: [
        {
          scope: 'group:g1',
          scopeName: 'group acme',
          tokenId: 't1',
          method: 'PUT',
          resource: 'Users',
          targetId: 'i1',
          accountId: 'a1',
          reason: 'uniqueness',
          attribute: 'userName',
          count: 3,
          first: '2026-05-02T09:00:00.000Z',
          last: '2026-05-02T11:00:00.000Z',
        },
      ],
    });
  });
});
