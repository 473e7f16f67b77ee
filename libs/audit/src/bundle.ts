import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { ChainedEnvelope } from './audit-envelope';
import { CSV_HEADER, csvText } from './audit-csv';
import type { SignedCheckpoint } from './checkpoint';
import { canonical, canonicalWith } from './hash-chain';

/**
 * An export bundle is a directory of these files. Every JSON text in it is RFC 8785 canonical
 * (one per line in the .ndjson files), so the verifier can refuse anything else.
 */
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  events: 'events.ndjson',
  csv: 'events.csv',
  checkpoints: 'checkpoints.ndjson',
  keys: 'public-keys.json',
} as const;

export const BUNDLE_FORMAT = 'scim-audit-bundle/2';

export interface PublicKeyEntry {
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
  /** SHA-256 of the key's SubjectPublicKeyInfo (DER), hex: what an auditor pins. */
  readonly fingerprint: string;
  readonly publicKeyPem: string;
}

/** Where a scope's chain stands at the edges of the exported range. */
export interface ManifestScope {
  /** Records of the scope inside the range. */
  readonly count: number;
  /** seq and hash of the scope's last record before the range (0 and the genesis hash if none). */
  readonly prevSeq: number;
  readonly prevHash: string;
  /** Hashes of the first and last record inside the range (absent when count is 0). */
  readonly firstHash?: string;
  readonly lastHash?: string;
}

export interface FileDigest {
  readonly sha256: string;
  readonly bytes: number;
}

export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly fromPosition: string;
  readonly toPosition: string;
  readonly createdAt: string;
  readonly events: number;
  /** Every scope that exists at toPosition, including those without records in the range. */
  readonly scopes: Readonly<Record<string, ManifestScope>>;
  /** Number of checkpoints in checkpoints.ndjson (all signed checkpoints inside the range). */
  readonly checkpoints: number;
  /** Every other file of the bundle. */
  readonly files: Readonly<Record<string, FileDigest>>;
  readonly keyId: string;
  readonly keyFingerprint: string;
}

export interface SignedManifest extends BundleManifest {
  /** Ed25519 over the canonical JSON of every other field, base64. */
  readonly signature: string;
}

/** One line of events.ndjson. */
export function ndjsonLine(record: ChainedEnvelope): string {
  const { seq, prevHash, hash, ...envelope } = record;
  return `${canonicalWith(envelope, { seq, prevHash, hash }).full}\n`;
}

export function checkpointsText(checkpoints: readonly SignedCheckpoint[]): string {
  return sortCheckpoints(checkpoints)
    .map((c) => `${canonical(c)}\n`)
    .join('');
}

export function sortCheckpoints(checkpoints: readonly SignedCheckpoint[]): SignedCheckpoint[] {
  return [...checkpoints].sort((a, b) => {
    const d = BigInt(a.position) - BigInt(b.position);
    return d < 0n ? -1 : d > 0n ? 1 : a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0;
  });
}

export function publicKeysText(keys: readonly PublicKeyEntry[]): string {
  return `${canonical(keys)}\n`;
}

export function manifestText(manifest: SignedManifest): string {
  return `${canonical(manifest)}\n`;
}

/** SHA-256 of a public key's SubjectPublicKeyInfo, hex. The key id is its first 16 digits. */
export function fingerprintOf(key: KeyObject | string): string {
  const k = typeof key === 'string' ? createPublicKey(key) : key;
  return createHash('sha256').update(k.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function publicKeyEntry(publicKeyPem: string): PublicKeyEntry {
  const fingerprint = fingerprintOf(publicKeyPem);
  return { keyId: fingerprint.slice(0, 16), algorithm: 'Ed25519', fingerprint, publicKeyPem };
}

export function signManifest(manifest: BundleManifest, privateKey: KeyObject): SignedManifest {
  const signature = sign(null, Buffer.from(canonical(manifest)), privateKey).toString('base64');
  return { ...manifest, signature };
}

export function verifyManifestSignature(manifest: SignedManifest, publicKeyPem: string): boolean {
  const { signature, ...body } = manifest;
  try {
    return verify(null, Buffer.from(canonical(body)), createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Accumulates, record by record in log order, what the manifest binds: per-scope counts and
 * edge hashes and the digests of events.ndjson and events.csv exactly as they are served. Used
 * by the server before it signs, and by tests that write bundles without a server.
 */
export class ManifestBuilder {
  private readonly ndjson = createHash('sha256');
  private readonly csv = createHash('sha256');
  private ndjsonBytes = 0;
  private csvBytes = 0;
  private events = 0;
  private readonly scopes = new Map<string, { count: number; prevSeq: number; prevHash: string; firstHash: string; lastHash: string; lastSeq: number; lastPosition: string }>();

  constructor() {
    this.csvChunk(`${CSV_HEADER}\n`);
  }

  /** Takes the next record; answers its NDJSON line and CSV rows, as hashed. */
  add(record: ChainedEnvelope, line: string = ndjsonLine(record)): { line: string; csv: string } {
    this.ndjson.update(line, 'utf8');
    this.ndjsonBytes += Buffer.byteLength(line);
    const csv = csvText(record);
    this.csvChunk(csv);
    this.events++;
    const s = this.scopes.get(record.scope);
    if (s) {
      s.count++;
      s.lastHash = record.hash;
      s.lastSeq = record.seq;
      s.lastPosition = record.position;
    } else {
      this.scopes.set(record.scope, { count: 1, prevSeq: record.seq - 1, prevHash: record.prevHash, firstHash: record.hash, lastHash: record.hash, lastSeq: record.seq, lastPosition: record.position });
    }
    return { line, csv };
  }

  /** The last record of each scope inside the range: where the export's own checkpoints go. */
  lastRecords(): { scope: string; position: string; count: number; headHash: string }[] {
    return [...this.scopes].map(([scope, s]) => ({ scope, position: s.lastPosition, count: s.lastSeq, headHash: s.lastHash }));
  }

  has(scope: string): boolean {
    return this.scopes.has(scope);
  }

  /**
   * @param emptyScopes scopes that existed at the range's end without a record inside it, with
   *   where their chain stood before the range
   */
  build(input: {
    fromPosition: string;
    toPosition: string;
    createdAt: string;
    emptyScopes: readonly { scope: string; prevSeq: number; prevHash: string }[];
    checkpoints: readonly SignedCheckpoint[];
    keys: readonly PublicKeyEntry[];
    signingKey: PublicKeyEntry;
  }): BundleManifest {
    const scopes: Record<string, ManifestScope> = {};
    for (const e of input.emptyScopes) if (!this.scopes.has(e.scope)) scopes[e.scope] = { count: 0, prevSeq: e.prevSeq, prevHash: e.prevHash };
    for (const [scope, s] of this.scopes) scopes[scope] = { count: s.count, prevSeq: s.prevSeq, prevHash: s.prevHash, firstHash: s.firstHash, lastHash: s.lastHash };
    return {
      format: BUNDLE_FORMAT,
      fromPosition: input.fromPosition,
      toPosition: input.toPosition,
      createdAt: input.createdAt,
      events: this.events,
      scopes,
      checkpoints: input.checkpoints.length,
      files: {
        [BUNDLE_FILES.events]: { sha256: this.ndjson.digest('hex'), bytes: this.ndjsonBytes },
        [BUNDLE_FILES.csv]: { sha256: this.csv.digest('hex'), bytes: this.csvBytes },
        [BUNDLE_FILES.checkpoints]: digest(checkpointsText(input.checkpoints)),
        [BUNDLE_FILES.keys]: digest(publicKeysText(input.keys)),
      },
      keyId: input.signingKey.keyId,
      keyFingerprint: input.signingKey.fingerprint,
    };
  }

  private csvChunk(text: string): void {
    this.csv.update(text, 'utf8');
    this.csvBytes += Buffer.byteLength(text);
  }
}

export function digest(text: string): FileDigest {
  return { sha256: createHash('sha256').update(text, 'utf8').digest('hex'), bytes: Buffer.byteLength(text) };
}

