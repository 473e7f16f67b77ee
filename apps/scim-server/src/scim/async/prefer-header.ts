/**
 * RFC 7240 `Prefer`: comma-separated preferences, each `token [ "=" word ] *( ";" parameter )`,
 * possibly over several header lines; names are case-insensitive and the first occurrence of a
 * preference wins (§2). Hand-written: the grammar is this small, and the HTTP libraries at hand
 * parse no Prefer header. Quoted strings holding a comma are not split correctly; no preference
 * this server reads takes one.
 */
export function parsePrefer(header: string | string[] | undefined): Map<string, string> {
  const prefs = new Map<string, string>();
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const part of lines.flatMap((l) => l.split(','))) {
    const [first] = part.split(';');
    const eq = first!.indexOf('=');
    const name = (eq < 0 ? first! : first!.slice(0, eq)).trim().toLowerCase();
    if (!name || prefs.has(name)) continue;
    const value = eq < 0 ? '' : first!.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    prefs.set(name, value);
  }
  return prefs;
}

/** `wait=N` (delta-seconds) as milliseconds, at most `maxMs`; 0 when absent or not a number. */
export function preferredWaitMs(prefs: Map<string, string>, maxMs: number): number {
  const wait = prefs.get('wait');
  if (wait === undefined || !/^\d{1,9}$/.test(wait)) return 0;
  return Math.min(Number(wait) * 1000, maxMs);
}
