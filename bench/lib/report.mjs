// The table printed at the end and bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export function machine() {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model?.trim() ?? 'unknown',
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

export const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : null;

export function writeResults(dir, report) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

const fmt = (n) =>
  typeof n === 'number' ? (Number.isInteger(n) ? n.toLocaleString('en-US') : String(n)) : '';

/** One line per phase and server; extras (errors, skips, ratios of the ours-only phases) in `note`. */
export function table(phases, { quick = false, oursLabel = 'ours' } = {}) {
  const rows = [
    ['phase', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'ours/peer', 'ours/ceiling', 'note'],
  ];
  const shown = new Set();
  for (const p of phases) {
    for (const name of ['ours', 'peer', 'ceiling']) {
      const r = p[name];
      if (!r) continue;
      const isOurs = name === 'ours';
      const note = [];
      if (r.error) note.push(shown.has(`${name} ${r.error}`) ? 'ERROR: as above' : `ERROR: ${r.error}`);
      if (r.error) shown.add(`${name} ${r.error}`);
      if (r.skipped) note.push(`skipped: ${r.skipped}`);
      if (r.warning) note.push(r.warning);
      if (r.groupSize !== undefined)
        note.push(
          `${r.groupSize.toLocaleString('en-US')}-member group${p.name === 'group-add-50k' && r.groupSize !== 50000 ? ` (${quick ? '--quick' : '--big-group'}: not 50,000)` : ''}`,
        );
      if (r.p50Ratio !== undefined) note.push(`p50 ratio vs 10 members: ${r.p50Ratio}`);
      if (r.eventsPerSecond !== undefined)
        note.push(`${fmt(r.eventsPerSecond)} events/s (${fmt(r.events)} events in ${r.wallSeconds} s)`);
      if (r.p95 !== undefined)
        note.push(
          `p95 ${r.p95} ms over ${fmt(r.auditedEvents)} audited events${r.auditedEvents < 1000000 ? ` (${quick ? '--quick' : '--audit-events'}: not 1,000,000)` : ''}`,
        );
      if (r.readySeconds !== undefined) note.push(`ready ${r.readySeconds} s after a restart on the same store`);
      if (r.importSeconds !== undefined)
        note.push(`${fmt(r.users)} users by ${r.clients} clients in ${r.importSeconds} s`);
      if (r.vmHwmMiB !== undefined)
        note.push(`VmHWM ${r.vmHwmMiB} MiB${r.users !== undefined ? ` with ${fmt(r.users)} users` : ''}`);
      rows.push([
        p.name,
        isOurs ? oursLabel : name,
        fmt(r.rps),
        fmt(r.p50),
        fmt(r.p99),
        fmt(r.non2xx),
        isOurs && p.ratioPeer != null ? String(p.ratioPeer) : '',
        isOurs && p.ratioCeiling != null ? String(p.ratioCeiling) : '',
        note.join('; '),
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const right = new Set([2, 3, 4, 5, 6, 7]);
  const line = (r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(rows[0]),
    widths.map((w, i) => (i === widths.length - 1 ? '----' : '-'.repeat(w))).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}
