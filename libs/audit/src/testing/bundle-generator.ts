import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { AuditEnvelope } from '../audit-envelope';
import type { ChainedEnvelope } from '../audit.projection';
import { CSV_HEADER } from '../audit-csv';
import { BUNDLE_FILES, checkpointsText, ManifestBuilder, manifestText, publicKeyEntry, publicKeysText, signManifest } from '../bundle';
import { generateSigningKey, type SignedCheckpoint, signCheckpoint } from '../checkpoint';
import { canonical, canonicalWith, chainHashOfCanonical, GENESIS } from '../hash-chain';

export interface GeneratedBundleOptions {
  readonly events: number;
  readonly scopes?: readonly string[];
  /** A checkpoint per scope every this many records of the scope, and one at each scope's end. */
  readonly checkpointEvery?: number;
  /** Records of each scope before the range (not written): the range starts mid-chain. */
  readonly before?: number;
  readonly privateKeyPem?: string;
  /** Extra scopes that exist but have no records in the range. */
  readonly emptyScopes?: readonly string[];
  /** Characters of filler in each event's data: large bundles without many more events. */
  readonly padding?: number;
}

/**
 * Writes a bundle exactly as the server does (the same hash chain, canonical lines, CSV,
 * checkpoint and manifest signing code), without a server: for the verifier's tests, from a
 * handful of events to hundreds of thousands. `write` receives each file in pieces, in order.
 */
export function generateBundle(options: GeneratedBundleOptions, write: (file: string, text: string) => void): { privateKey: KeyObject; publicKeyPem: string } {
  const privateKey = createPrivateKey(options.privateKeyPem ?? generateSigningKey().privateKeyPem);
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const scopes = options.scopes ?? ['application', 'group:7', 'instance'];
  const every = options.checkpointEvery ?? 1000;
  const before = options.before ?? 0;
  const filler = 'x'.repeat(options.padding ?? 0);
  const heads = new Map<string, { seq: number; hash: string }>();
  // Records before the range only move the chain: hash what they would have been.
  let position = 1;
  for (let i = 0; i < before * scopes.length; i++) {
    const scope = scopes[i % scopes.length];
    const head = heads.get(scope) ?? { seq: 0, hash: GENESIS };
    heads.set(scope, { seq: head.seq + 1, hash: chainHashOfCanonical(head.hash, canonical(envelope(position++, scope))) });
  }
  const builder = new ManifestBuilder();
  const fromPosition = position;
  const checkpoints: SignedCheckpoint[] = [];
  const seen = new Map<string, number>();
  let ndjson = '';
  let csv = `${CSV_HEADER}\n`;
  const flush = (force = false) => {
    if (force || ndjson.length > 1 << 20) {
      write(BUNDLE_FILES.events, ndjson);
      write(BUNDLE_FILES.csv, csv);
      ndjson = '';
      csv = '';
    }
  };
  const last = new Map<string, ChainedEnvelope>();
  for (let i = 0; i < options.events; i++) {
    const scope = scopes[i % scopes.length];
    const head = heads.get(scope) ?? { seq: 0, hash: GENESIS };
    const env = envelope(position++, scope, filler);
    let hash = '';
    const text = canonicalWith(env as unknown as Record<string, unknown>, (base) => {
      hash = chainHashOfCanonical(head.hash, base);
      return { seq: head.seq + 1, prevHash: head.hash, hash };
    });
    const record: ChainedEnvelope = { ...env, seq: head.seq + 1, prevHash: head.hash, hash };
    heads.set(scope, { seq: record.seq, hash });
    const out = builder.add(record, `${text.full}\n`);
    ndjson += out.line;
    csv += out.csv;
    last.set(scope, record);
    const n = (seen.get(scope) ?? 0) + 1;
    seen.set(scope, n);
    if (n % every === 0) checkpoints.push(checkpointOf(record, privateKey));
    flush();
  }
  flush(true);
  // The export's own checkpoint at each scope's last record, unless one is already there.
  for (const record of last.values()) if ((seen.get(record.scope) ?? 0) % every !== 0) checkpoints.push(checkpointOf(record, privateKey));
  const keys = [publicKeyEntry(publicKeyPem)];
  write(BUNDLE_FILES.checkpoints, checkpointsText(checkpoints));
  write(BUNDLE_FILES.keys, publicKeysText(keys));
  const manifest = builder.build({
    fromPosition: String(fromPosition),
    toPosition: String(position - 1),
    createdAt: '2026-01-01T00:00:00.000Z',
    emptyScopes: [...(options.emptyScopes ?? []).map((scope) => ({ scope, prevSeq: 0, prevHash: GENESIS })), ...[...heads].map(([scope, h]) => ({ scope, prevSeq: h.seq, prevHash: h.hash }))],
    checkpoints,
    keys,
    signingKey: keys[0],
  });
  write(BUNDLE_FILES.manifest, manifestText(signManifest(manifest, privateKey)));
  return { privateKey, publicKeyPem };
}

/** The same, into memory: file name → content. */
export function generateBundleInMemory(options: GeneratedBundleOptions): { files: Record<string, string>; privateKey: KeyObject; publicKeyPem: string } {
  const files: Record<string, string> = {};
  const keys = generateBundle(options, (file, text) => {
    files[file] = (files[file] ?? '') + text;
  });
  return { files, ...keys };
}

function checkpointOf(r: ChainedEnvelope, key: KeyObject): SignedCheckpoint {
  return signCheckpoint({ scope: r.scope, position: r.position, count: r.seq, headHash: r.hash, time: '2026-01-01T00:00:00.000Z' }, key);
}

function envelope(position: number, scope: string, filler = ''): AuditEnvelope {
  const id = `0190${position.toString(16).padStart(12, '0')}-0000-7000-8000-000000000000`;
  const account = `acc-${position % 5000}`;
  const time = new Date(Date.UTC(2026, 0, 1) + position * 1000).toISOString();
  return {
    id,
    type: position % 3 === 0 ? 'UserNameChanged' : 'UserProvisioned',
    position: String(position),
    stream: `account-${account}`,
    revision: String(position % 7),
    scope,
    recordedAt: time,
    occurredAt: time,
    actor: { kind: 'scim_token', tokenId: 'tok-1' },
    target: { type: 'account', id: account },
    changes: position % 3 === 0 ? [{ path: 'userName', from: `old${position}@example.com`, to: `new${position}@example.com` }] : [],
    outcome: 'success',
    data: { userName: `user${position}@example.com`, note: position % 11 === 0 ? '=cmd|, "quoted"\nline' : 'plain', ...(filler ? { filler } : {}) },
  };
}
