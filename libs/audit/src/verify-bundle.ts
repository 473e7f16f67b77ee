import { createHash } from 'node:crypto';
import type { ChainedEnvelope } from './audit.projection';
import type { AuditEnvelope } from './audit-envelope';
import { type SignedCheckpoint, verifyCheckpoint } from './checkpoint';
import { chainHash, GENESIS } from './hash-chain';

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
  const last = new Map<string, ChainedEnvelope>();
  const byPosition = new Map<string, ChainedEnvelope>();
  let previousPosition = -1n;
  for (const [i, line] of lines.entries()) {
    let record: ChainedEnvelope;
    try {
      record = JSON.parse(line) as ChainedEnvelope;
    } catch {
      return { ok: false, problem: `line ${i + 1} is not JSON`, record: `line ${i + 1}` };
    }
    const name = record.id ?? `line ${i + 1}`;
    const { seq, prevHash, hash, ...envelope } = record;
    if (chainHash(prevHash, envelope as AuditEnvelope) !== hash) return { ok: false, problem: 'the record does not match its hash (edited)', record: name };
    const position = BigInt(record.position);
    if (position <= previousPosition) return { ok: false, problem: 'records are out of log order', record: name };
    previousPosition = position;
    const before = last.get(record.scope);
    if (before) {
      if (prevHash !== before.hash || seq !== before.seq + 1) return { ok: false, problem: `a record of scope ${record.scope} is missing or out of order before this one`, record: name };
    } else if (seq === 1 && prevHash !== GENESIS) {
      return { ok: false, problem: 'the first record of a scope does not start from the genesis hash', record: name };
    }
    last.set(record.scope, record);
    byPosition.set(record.position, record);
  }
  for (const [scope, count] of Object.entries(bundle.manifest.counts)) {
    const end = last.get(scope);
    if (!end || bundle.manifest.heads[scope] !== end.hash) return { ok: false, problem: `the chain of scope ${scope} does not end at the manifest's head (records dropped at the end?)`, record: end?.id };
    void count;
  }
  if (lines.length !== bundle.manifest.events) return { ok: false, problem: `the manifest counts ${bundle.manifest.events} records, the bundle holds ${lines.length}` };
  for (const c of bundle.checkpoints) {
    const key = bundle.publicKeys[c.keyId];
    if (!key || !verifyCheckpoint(c, key)) return { ok: false, problem: `checkpoint of scope ${c.scope} at ${c.position} has an invalid signature`, record: `checkpoint ${c.scope}@${c.position}` };
    const at = byPosition.get(c.position);
    if (at && (at.scope !== c.scope || at.hash !== c.headHash || at.seq !== c.count)) {
      return { ok: false, problem: `checkpoint of scope ${c.scope} at ${c.position} disagrees with the chain`, record: at.id };
    }
  }
  return { ok: true, events: lines.length, scopes: last.size, checkpoints: bundle.checkpoints.length };
}
