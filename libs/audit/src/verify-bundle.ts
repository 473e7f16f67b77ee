import { createHash } from 'node:crypto';
import type { ChainedEnvelope } from './audit.projection';
import { ChainVerifier } from './chain-verifier';
import type { SignedCheckpoint } from './checkpoint';

export interface BundleManifest {
  readonly fromPosition: string;
  readonly toPosition: string;
  readonly events: number;
  readonly counts: Record<string, number>;
  readonly heads: Record<string, string>;
  readonly eventsSha256: string;
  readonly csvSha256?: string;
}

export interface Bundle {
  readonly eventsNdjson: string;
  readonly manifest: BundleManifest;
  readonly checkpoints: readonly SignedCheckpoint[];
  /** keyId → public key PEM. */
  readonly publicKeys: Readonly<Record<string, string>>;
  readonly csv?: string;
}

export type Verdict = { ok: true; events: number; scopes: number; checkpoints: number } | { ok: false; problem: string; record?: string };

/**
 * Checks an export offline: every record's hash, the links between consecutive records of a
 * scope (nothing dropped, nothing reordered), signatures of the checkpoints and that each
 * checkpoint agrees with the chain, and the manifest's hashes and counts. Names the first
 * bad record.
 */
export function verifyBundle(bundle: Bundle): Verdict {
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  if (sha(bundle.eventsNdjson) !== bundle.manifest.eventsSha256) return { ok: false, problem: 'events.ndjson does not match the manifest hash' };
  if (bundle.csv !== undefined && bundle.manifest.csvSha256 && sha(bundle.csv) !== bundle.manifest.csvSha256) {
    return { ok: false, problem: 'events.csv does not match the manifest hash' };
  }
  const lines = bundle.eventsNdjson.split('\n').filter((l) => l.length > 0);
  const verifier = new ChainVerifier();
  for (const [i, line] of lines.entries()) {
    let record: ChainedEnvelope;
    try {
      record = JSON.parse(line) as ChainedEnvelope;
    } catch {
      return { ok: false, problem: `line ${i + 1} is not JSON`, record: `line ${i + 1}` };
    }
    if (!verifier.add([record])) return verifier.verdict(0);
  }
  for (const scope of Object.keys(bundle.manifest.counts)) {
    const end = verifier.heads().get(scope);
    if (!end || bundle.manifest.heads[scope] !== end.hash) {
      return { ok: false, problem: `the chain of scope ${scope} does not end at the manifest's head (records dropped at the end?)`, ...(end ? { record: end.id } : {}) };
    }
  }
  if (lines.length !== bundle.manifest.events) return { ok: false, problem: `the manifest counts ${bundle.manifest.events} records, the bundle holds ${lines.length}` };
  verifier.checkpoints(bundle.checkpoints, bundle.publicKeys);
  return verifier.verdict(bundle.checkpoints.length);
}
