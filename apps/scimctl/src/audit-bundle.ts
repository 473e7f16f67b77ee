import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { BUNDLE_FILES, type BundleSource, checkpointsText, manifestText, type PublicKeyEntry, publicKeysText, type SignedCheckpoint, type SignedManifest } from '@app/audit/domain';
import { ApiError } from './api-client';
import { Progress } from './progress';

/** A bundle directory as the verifier reads it: file by file, streamed. No network, no database. */
export function directoryBundle(dir: string): BundleSource {
  const names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile());
  return { names, open: (name) => createReadStream(join(dir, name), { highWaterMark: 1 << 20 }) };
}

export type ProgressFactory = (label: string, total: number, unit: string) => Pick<Progress, 'update' | 'finish'>;

export const stderrProgress: ProgressFactory = (label, total, unit) => new Progress(label, total, unit);
export const noProgress: ProgressFactory = () => ({ update: () => undefined, finish: () => undefined });

/**
 * Exports [since, until) into a bundle directory: the server fixes the range and signs the
 * manifest first, then both event files are streamed to disk (never held in memory) and
 * checked against the digests the server signed.
 */
export async function exportBundle(url: string, token: string, out: string, range: { since?: string; until?: string }, progress: ProgressFactory = noProgress): Promise<SignedManifest> {
  mkdirSync(out, { recursive: true });
  if (readdirSync(out).length > 0) throw new Error(`${out} is not empty: a bundle must hold only its own files`);
  const base = url.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${token}` };
  const started = await fetch(`${base}/api/v1/audit/exports`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(range) });
  if (!started.ok) throw new ApiError(started.status, await started.text());
  const { manifest, checkpoints, keys } = (await started.json()) as { manifest: SignedManifest; checkpoints: SignedCheckpoint[]; keys: PublicKeyEntry[] };
  writeFileSync(join(out, BUNDLE_FILES.manifest), manifestText(manifest));
  writeFileSync(join(out, BUNDLE_FILES.checkpoints), checkpointsText(checkpoints));
  writeFileSync(join(out, BUNDLE_FILES.keys), publicKeysText(keys));
  const fixed = `fromPosition=${manifest.fromPosition}&toPosition=${manifest.toPosition}`;
  for (const [format, file] of [
    ['ndjson', BUNDLE_FILES.events],
    ['csv', BUNDLE_FILES.csv],
  ] as const) {
    const expected = manifest.files[file];
    const bar = format === 'ndjson' ? progress(`downloading ${file}`, manifest.events, 'events') : progress(`downloading ${file}`, expected.bytes, 'bytes');
    const r = await fetch(`${base}/api/v1/audit/export?format=${format}&${fixed}`, { headers });
    if (!r.ok || !r.body) throw new ApiError(r.status, await r.text());
    const sink = createWriteStream(join(out, file));
    const hash = createHash('sha256');
    let bytes = 0;
    let lines = 0;
    for await (const chunk of r.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      if (format === 'ndjson') for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      bar.update(format === 'ndjson' ? lines : bytes);
      if (!sink.write(chunk)) await once(sink, 'drain');
    }
    sink.end();
    await once(sink, 'finish');
    bar.finish(format === 'ndjson' ? lines : bytes);
    if (hash.digest('hex') !== expected.sha256 || bytes !== expected.bytes) {
      throw new Error(`the server sent a ${file} that differs from the one its manifest signs (was the audit projection rebuilt meanwhile?): export again`);
    }
  }
  return manifest;
}
