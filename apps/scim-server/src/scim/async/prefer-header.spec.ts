import { parsePrefer, preferredWaitMs } from './prefer-header';

describe('Prefer header (RFC 7240)', () => {
  it('reads preferences across commas, header lines and parameters, names case-insensitively, first one wins', () => {
    const prefs = parsePrefer(['Respond-Async, wait=10;foo=bar', 'wait=99, handling="lenient"']);
    expect([...prefs]).toEqual([
      ['respond-async', ''],
      ['wait', '10'],
      ['handling', 'lenient'],
    ]);
    expect(parsePrefer(undefined).size).toBe(0);
  });

  it('takes wait as seconds, capped, and ignores a value that is not delta-seconds', () => {
    expect(preferredWaitMs(parsePrefer('wait=3'), 60_000)).toBe(3000);
    expect(preferredWaitMs(parsePrefer('wait=3600'), 60_000)).toBe(60_000);
    expect(preferredWaitMs(parsePrefer('wait=-1'), 60_000)).toBe(0);
    expect(preferredWaitMs(parsePrefer('wait=soon'), 60_000)).toBe(0);
    expect(preferredWaitMs(parsePrefer('respond-async'), 60_000)).toBe(0);
  });
});
