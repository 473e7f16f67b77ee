import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, BundleManifest, SignedCheckpoint } from '@app/audit';

export const FILES = {
  events: 'events.ndjson',
  csv: 'events.csv',
  manifest: 'manifest.json',
  checkpoints: 'checkpoints.json',
  keys: 'public-keys.json',
} as const;

/** Reads a bundle directory; no network, no database. */
export function readBundle(dir: string): Bundle {
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const keys = JSON.parse(read(FILES.keys)) as { keyId: string; publicKeyPem: string }[];
  return {
    eventsNdjson: read(FILES.events),
    manifest: JSON.parse(read(FILES.manifest)) as BundleManifest,
    checkpoints: JSON.parse(read(FILES.checkpoints)) as SignedCheckpoint[],
    publicKeys: Object.fromEntries(keys.map((k) => [k.keyId, k.publicKeyPem])),
    ...(existsSync(join(dir, FILES.csv)) ? { csv: read(FILES.csv) } : {}),
  };
}

/** Downloads an export of [since, until) into a bundle directory. */
export async function exportBundle(url: string, token: string, out: string, range: { since?: string; until?: string }, progress: (m: string) => void): Promise<void> {
  mkdirSync(out, { recursive: true });
  const query = new URLSearchParams(Object.entries(range).filter(([, v]) => v !== undefined) as [string, string][]).toString();
  const get = async (path: string) => {
    const r = await fetch(`${url.replace(/\/+$/, '')}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
    return r.text();
  };
  progress('manifest');
  const manifest = await get(`/api/v1/audit/export/manifest?${query}`);
  writeFileSync(join(out, FILES.manifest), manifest);
  // The manifest fixes the range: later events (the export itself is one) stay out.
  const { fromPosition, toPosition } = JSON.parse(manifest) as { fromPosition: string; toPosition: string };
  const fixed = `fromPosition=${fromPosition}&toPosition=${toPosition}`;
  progress('events (NDJSON)');
  writeFileSync(join(out, FILES.events), await get(`/api/v1/audit/export?format=ndjson&${fixed}`));
  progress('events (CSV)');
  writeFileSync(join(out, FILES.csv), await get(`/api/v1/audit/export?format=csv&${fixed}`));
  progress('checkpoints and keys');
  writeFileSync(join(out, FILES.checkpoints), await get('/api/v1/audit/checkpoints'));
  writeFileSync(join(out, FILES.keys), await get('/api/v1/audit/keys'));
}
