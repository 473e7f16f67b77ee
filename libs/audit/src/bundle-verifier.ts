import { createHash, createPublicKey, type Hash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { ChainedEnvelope } from './audit-envelope';
import { CSV_COLUMNS, CSV_HEADER, csvCells, csvRowsOf } from './audit-csv';
import { BUNDLE_FILES, BUNDLE_FORMAT, type FileDigest, fingerprintOf, type ManifestScope, type PublicKeyEntry, type SignedManifest, verifyManifestSignature } from './bundle';
import { type Row, readSmall, RowTooLong, rows } from './bundle-lines';
import { type SignedCheckpoint, verifyCheckpoint } from './checkpoint';
import { canonicalWith, chainHashOfCanonical, GENESIS } from './hash-chain';
import { parseCanonicalJson } from './strict-json';

/** The files of a bundle, however they are stored (a directory, memory in tests). */
export interface BundleSource {
  readonly names: readonly string[];
  open(name: string): AsyncIterable<Uint8Array>;
}

export interface VerifyOptions {
  /**
   * Keys the auditor trusts: SHA-256 fingerprints (hex, colons allowed) or PEM public keys.
   * Without any, the bundle's own keys are used and reported, to be compared with the server's.
   */
  readonly pinned?: readonly string[];
  /** Accept records after the last signed checkpoint of their scope. */
  readonly allowUnsignedTail?: boolean;
  readonly progress?: (p: { events: number; total: number }) => void;
}

export interface Problem {
  readonly problem: string;
  /** The first bad record (an event id) or thing (a file, a checkpoint) it concerns. */
  readonly record?: string;
}

export interface SignatureCoverage {
  readonly scope: string;
  readonly position: string;
  readonly keyId: string;
  /** The checkpoint signs the scope's chain up to and including this seq. */
  readonly throughSeq: number;
  /** Records of the bundle this signature covers that no earlier one did. */
  readonly covers: number;
}

export interface ScopeReport {
  readonly scope: string;
  readonly events: number;
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  /** Records covered by a signed checkpoint. */
  readonly signed: number;
  /** Records after the scope's last signed checkpoint. */
  readonly unsignedTail: number;
}

export interface Verdict {
  readonly ok: boolean;
  /** The first problem, for one-line reports; all of them are in `problems`. */
  readonly problem?: string;
  readonly record?: string;
  readonly problems: readonly Problem[];
  readonly events: number;
  readonly scopes: number;
  readonly checkpoints: number;
  readonly range?: { readonly fromPosition: string; readonly toPosition: string };
  /** How the signing keys came to be trusted: pinned by the auditor, or taken from the bundle. */
  readonly trust: 'pinned' | 'bundle';
  readonly keys: readonly { readonly keyId: string; readonly fingerprint: string }[];
  readonly perScope: readonly ScopeReport[];
  readonly signatures: readonly SignatureCoverage[];
}

const MAX_PROBLEMS = 100;
const MAX_ROW_BYTES = 16 * 1024 * 1024;
const MAX_SMALL_FILE = 64 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const POSITION = /^(0|[1-9][0-9]{0,18})$/;

/** Problems are reported in this order, whatever order they were found in. */
enum Stage {
  Manifest,
  Files,
  Records,
  Checkpoints,
  Coverage,
  Csv,
}

interface ScopeState {
  count: number;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  signedThrough: number;
}

/**
 * Verifies an export bundle offline, streaming: memory holds one record, the per-scope chain
 * state and the checkpoints (one per scope per interval), never the events. Checks:
 *  - the manifest's signature, by a pinned key or the bundle's own (then reported);
 *  - the files are exactly those the manifest lists, with the signed digests;
 *  - every JSON text is canonical (no duplicate keys, no trailing garbage, no other spelling);
 *  - every record's hash, the links between a scope's records, log order and the range;
 *  - each scope starts where the manifest says its chain stood before the range, holds the
 *    signed count and ends at the signed hash; no scope missing, none added;
 *  - every checkpoint is validly signed and matches the record at its position (scope, count,
 *    hash); a scope a checkpoint names has records;
 *  - every record is covered by a signed checkpoint (unless an unsigned tail is allowed);
 *  - the CSV rows are exactly those the NDJSON records give.
 */
export async function verifyBundleSource(source: BundleSource, options: VerifyOptions = {}): Promise<Verdict> {
  return new Verification(source, options).run();
}

class Verification {
  private readonly problems: { stage: Stage; seq: number; p: Problem }[] = [];
  private truncated = 0;
  private manifest!: SignedManifest;
  private trusted = new Map<string, { fingerprint: string; pem: string }>();
  private trust: 'pinned' | 'bundle' = 'bundle';
  private checkpoints: SignedCheckpoint[] = [];
  private readonly validCheckpoint = new Set<SignedCheckpoint>();
  private readonly states = new Map<string, ScopeState>();
  private readonly signatures: SignatureCoverage[] = [];
  private events = 0;
  private csv?: AsyncIterator<Row>;
  private csvRow = 0;
  private csvBroken = false;

  constructor(
    private readonly source: BundleSource,
    private readonly options: VerifyOptions,
  ) {}

  async run(): Promise<Verdict> {
    if ((await this.readManifest()) && (await this.readKeys())) {
      this.checkManifestSignature();
      this.checkFileList();
      await this.readCheckpoints();
      await this.readEvents();
      this.checkEnds();
    }
    return this.verdict();
  }

  private problem(stage: Stage, problem: string, record?: string): void {
    if (this.problems.length >= MAX_PROBLEMS) {
      this.truncated++;
      return;
    }
    this.problems.push({ stage, seq: this.problems.length, p: { problem, ...(record !== undefined ? { record } : {}) } });
  }

  private has(name: string): boolean {
    return this.source.names.includes(name);
  }

  private async readSmallText(name: string): Promise<{ text: string; digest: FileDigest } | undefined> {
    if (!this.has(name)) {
      // The file list check names the other missing files.
      if (name === BUNDLE_FILES.manifest) this.problem(Stage.Manifest, `${name} is missing from the bundle`, name);
      return undefined;
    }
    let bytes: Buffer;
    try {
      bytes = await readSmall(this.source.open(name), MAX_SMALL_FILE);
    } catch (e) {
      this.problem(Stage.Manifest, `${name} cannot be read: ${(e as Error).message}`, name);
      return undefined;
    }
    if (!isUtf8(bytes)) {
      this.problem(Stage.Manifest, `${name} is not UTF-8`, name);
      return undefined;
    }
    return { text: bytes.toString('utf8'), digest: { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length } };
  }

  private async readManifest(): Promise<boolean> {
    const file = await this.readSmallText(BUNDLE_FILES.manifest);
    if (!file) return false;
    const parsed = file.text.endsWith('\n') ? parseCanonicalJson(file.text.slice(0, -1)) : ({ ok: false, problem: 'does not end with a line break' } as const);
    if (!parsed.ok) {
      this.problem(Stage.Manifest, `${BUNDLE_FILES.manifest} ${olderFormat(file.text) ? `is an unsigned manifest of an older export: export again` : parsed.problem}`, BUNDLE_FILES.manifest);
      return false;
    }
    const shape = manifestShape(parsed.value);
    if (typeof shape === 'string') {
      this.problem(Stage.Manifest, `${BUNDLE_FILES.manifest} is not a ${BUNDLE_FORMAT} manifest: ${shape}`, BUNDLE_FILES.manifest);
      return false;
    }
    this.manifest = shape;
    return true;
  }

  private async readKeys(): Promise<boolean> {
    const pinned = new Map<string, string | undefined>();
    for (const p of this.options.pinned ?? []) {
      if (p.includes('BEGIN PUBLIC KEY')) {
        try {
          pinned.set(fingerprintOf(p), p);
        } catch {
          this.problem(Stage.Manifest, 'a pinned key is not a readable public key (PEM)');
          return false;
        }
      } else {
        const fp = p.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
        if (!HEX64.test(fp)) {
          this.problem(Stage.Manifest, `a pinned key fingerprint must be 64 hex digits (SHA-256): ${p}`);
          return false;
        }
        pinned.set(fp, undefined);
      }
    }
    this.trust = pinned.size ? 'pinned' : 'bundle';
    const file = await this.readSmallText(BUNDLE_FILES.keys);
    this.checkDigest(BUNDLE_FILES.keys, file?.digest);
    const bundleKeys = new Map<string, string>();
    if (file) {
      const parsed = file.text.endsWith('\n') ? parseCanonicalJson(file.text.slice(0, -1)) : ({ ok: false, problem: 'does not end with a line break' } as const);
      if (!parsed.ok || !Array.isArray(parsed.value)) {
        this.problem(Stage.Manifest, `${BUNDLE_FILES.keys} ${parsed.ok ? 'is not a list of keys' : parsed.problem}`, BUNDLE_FILES.keys);
      } else {
        for (const k of parsed.value as PublicKeyEntry[]) {
          let fp: string;
          try {
            fp = fingerprintOf(createPublicKey(k.publicKeyPem));
          } catch {
            this.problem(Stage.Manifest, `${BUNDLE_FILES.keys} holds a key that is not a readable public key`, BUNDLE_FILES.keys);
            continue;
          }
          if (k.fingerprint !== fp || k.keyId !== fp.slice(0, 16)) this.problem(Stage.Manifest, `${BUNDLE_FILES.keys}: key ${String(k.keyId)} does not have the fingerprint it claims`, BUNDLE_FILES.keys);
          else bundleKeys.set(fp, k.publicKeyPem);
        }
      }
    }
    if (pinned.size) {
      for (const [fp, pem] of pinned) {
        const key = pem ?? bundleKeys.get(fp);
        if (key) this.trusted.set(fp.slice(0, 16), { fingerprint: fp, pem: key });
      }
    } else {
      for (const [fp, pem] of bundleKeys) this.trusted.set(fp.slice(0, 16), { fingerprint: fp, pem });
    }
    return true;
  }

  private keyFor(keyId: string): { fingerprint: string; pem: string } | undefined {
    return this.trusted.get(keyId);
  }

  private checkManifestSignature(): void {
    const m = this.manifest;
    const key = this.keyFor(m.keyId);
    if (!key || key.fingerprint !== m.keyFingerprint) {
      this.problem(
        Stage.Manifest,
        this.trust === 'pinned'
          ? `${BUNDLE_FILES.manifest} is signed with key ${m.keyFingerprint}, which is not a pinned key`
          : `${BUNDLE_FILES.manifest} is signed with key ${m.keyId}, which ${BUNDLE_FILES.keys} does not hold`,
        BUNDLE_FILES.manifest,
      );
    } else if (!verifyManifestSignature(m, key.pem)) {
      this.problem(Stage.Manifest, `${BUNDLE_FILES.manifest}: the signature does not match its content (changed after it was signed)`, BUNDLE_FILES.manifest);
    }
  }

  private checkFileList(): void {
    const listed = new Set([BUNDLE_FILES.manifest, ...Object.keys(this.manifest.files)]);
    for (const name of listed) if (!this.has(name)) this.problem(Stage.Files, `${name} is missing from the bundle`, name);
    for (const name of this.source.names) if (!listed.has(name)) this.problem(Stage.Files, `${name} is not part of the signed bundle`, name);
    for (const required of Object.values(BUNDLE_FILES)) if (!listed.has(required)) this.problem(Stage.Files, `the signed manifest does not list ${required}`, required);
  }

  private checkDigest(name: string, actual: FileDigest | undefined): void {
    const expected = this.manifest.files[name];
    if (!expected || !actual) return;
    if (expected.sha256 !== actual.sha256 || expected.bytes !== actual.bytes) {
      this.problem(Stage.Files, `${name} does not match the digest in the signed manifest (changed, ${actual.bytes < expected.bytes ? 'shortened' : actual.bytes > expected.bytes ? 'lengthened' : 'same length'})`, name);
    }
  }

  /** Streams a file's rows, hashing every byte, and checks the digest when it ends. */
  private async *fileRows(name: string, csv = false): AsyncGenerator<Row> {
    const hash: Hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const row of rows(this.source.open(name), {
        csv,
        maxRowBytes: MAX_ROW_BYTES,
        onChunk: (c) => {
          hash.update(c);
          bytes += c.byteLength;
        },
      })) {
        if (!row.terminated) this.problem(Stage.Files, `${name} does not end with a line break (cut short?)`, name);
        yield row;
      }
    } catch (e) {
      if (!(e instanceof RowTooLong)) throw e;
      this.problem(Stage.Files, `${name}: ${e.message}`, name);
      return;
    }
    this.checkDigest(name, { sha256: hash.digest('hex'), bytes });
  }

  private async readCheckpoints(): Promise<void> {
    const name = BUNDLE_FILES.checkpoints;
    if (!this.has(name)) return;
    const m = this.manifest;
    const from = BigInt(m.fromPosition);
    const to = BigInt(m.toPosition);
    let line = 0;
    const seen = new Set<string>();
    for await (const row of this.fileRows(name)) {
      line++;
      const where = `${name} line ${line}`;
      const c = this.parseLine(row, where, Stage.Checkpoints, checkpointShape);
      if (!c) continue;
      const id = `checkpoint ${c.scope}@${c.position}`;
      if (seen.has(`${c.scope}@${c.position}`)) {
        this.problem(Stage.Checkpoints, `${id} appears twice`, id);
        continue;
      }
      seen.add(`${c.scope}@${c.position}`);
      this.checkpoints.push(c);
      const key = this.keyFor(c.keyId);
      if (!key) this.problem(Stage.Checkpoints, `${id} is signed with key ${c.keyId}, which is ${this.trust === 'pinned' ? 'not a pinned key' : `not in ${BUNDLE_FILES.keys}`}`, id);
      else if (!verifyCheckpoint(c, key.pem)) this.problem(Stage.Checkpoints, `${id} has an invalid signature (its scope, position, count, head hash or time was changed)`, id);
      else this.validCheckpoint.add(c);
      const position = BigInt(c.position);
      if (position < from || position > to) this.problem(Stage.Checkpoints, `${id} lies outside the bundle's range ${m.fromPosition}–${m.toPosition}`, id);
      if (!Object.hasOwn(m.scopes, c.scope)) this.problem(Stage.Checkpoints, `${id} names scope ${c.scope}, which the signed manifest does not list`, id);
    }
    if (this.checkpoints.length !== m.checkpoints) this.problem(Stage.Checkpoints, `the signed manifest counts ${m.checkpoints} checkpoints, ${name} holds ${this.checkpoints.length}`, name);
    this.checkpoints.sort((a, b) => cmp(BigInt(a.position), BigInt(b.position)) || (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }

  private parseLine<T>(row: Row, where: string, stage: Stage, shape: (v: unknown) => T | string): T | undefined {
    if (!isUtf8(row.bytes)) {
      this.problem(stage, `${where} is not UTF-8`, where);
      return undefined;
    }
    const parsed = parseCanonicalJson(row.bytes.toString('utf8'));
    if (!parsed.ok) {
      this.problem(stage, `${where} ${parsed.problem}`, where);
      return undefined;
    }
    const value = shape(parsed.value);
    if (typeof value === 'string') {
      this.problem(stage, `${where} ${value}`, where);
      return undefined;
    }
    return value;
  }

  /**
   * One line of events.ndjson: the record, and its envelope's canonical text (what the chain
   * hashes). The fast path serialises each member once for both the strictness check and the
   * hash; any line that is not canonical goes through the strict parser, which says why.
   */
  private parseRecord(row: Row, where: string): { record: ChainedEnvelope; envelopeText: string } | undefined {
    if (!isUtf8(row.bytes)) {
      this.problem(Stage.Records, `${where} is not UTF-8`, where);
      return undefined;
    }
    const text = row.bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const shaped = value === undefined ? 'is not JSON' : recordShape(value);
    if (typeof shaped !== 'string') {
      const { seq, prevHash, hash, ...envelope } = shaped;
      try {
        const c = canonicalWith(envelope, { seq, prevHash, hash });
        if (c.full === text) return { record: shaped, envelopeText: c.base };
      } catch {
        // A value JSON cannot carry exactly: the strict parser below names it.
      }
    }
    const strict = parseCanonicalJson(text);
    this.problem(Stage.Records, `${where} ${strict.ok ? shaped : strict.problem}`, where);
    return undefined;
  }

  private async readEvents(): Promise<void> {
    const m = this.manifest;
    const name = BUNDLE_FILES.events;
    if (this.has(BUNDLE_FILES.csv)) {
      this.csv = this.fileRows(BUNDLE_FILES.csv, true)[Symbol.asyncIterator]();
      const header = await this.csv.next();
      this.csvRow = 1;
      if (header.done || header.value.bytes.toString('utf8') !== CSV_HEADER) this.csvProblem(`${BUNDLE_FILES.csv} does not start with the expected header`);
    }
    if (!this.has(name)) return;
    const from = BigInt(m.fromPosition);
    const to = BigInt(m.toPosition);
    let previous = -1n;
    let line = 0;
    let cp = 0;
    for await (const row of this.fileRows(name)) {
      line++;
      const r = this.parseRecord(row, `${name} line ${line}`);
      if (!r) continue;
      this.events++;
      const at = `event ${r.record.id} (${name} line ${line})`;
      if (chainHashOfCanonical(r.record.prevHash, r.envelopeText) !== r.record.hash) this.problem(Stage.Records, `${at} does not match its hash (edited)`, r.record.id);
      const rec = r.record;
      const position = BigInt(rec.position);
      if (position <= previous) this.problem(Stage.Records, `${at} is out of log order (position ${rec.position} after ${previous})`, rec.id);
      previous = position;
      if (position < from || position > to) this.problem(Stage.Records, `${at} lies outside the signed range ${m.fromPosition}–${m.toPosition}`, rec.id);
      this.chain(rec, at);
      // Checkpoints are sorted by position: each is met when the records pass its position.
      while (cp < this.checkpoints.length && BigInt(this.checkpoints[cp].position) < position) this.unmatched(this.checkpoints[cp++]);
      while (cp < this.checkpoints.length && BigInt(this.checkpoints[cp].position) === position) this.match(this.checkpoints[cp++], rec);
      await this.compareCsv(rec, at);
      if (this.events % 1000 === 0) this.options.progress?.({ events: this.events, total: m.events });
    }
    while (cp < this.checkpoints.length) this.unmatched(this.checkpoints[cp++]);
    this.options.progress?.({ events: this.events, total: m.events });
    if (this.csv) {
      let extra = 0;
      for (let next = await this.csv.next(); !next.done; next = await this.csv.next()) extra++;
      if (extra) this.csvProblem(`${BUNDLE_FILES.csv} has ${extra} rows after the last event's`);
    }
  }

  private chain(r: ChainedEnvelope, at: string): void {
    // Own members only: a record's scope named `constructor` must not find Object's.
    const scope = Object.hasOwn(this.manifest.scopes, r.scope) ? this.manifest.scopes[r.scope] : undefined;
    if (!scope) {
      this.problem(Stage.Records, `${at} belongs to scope ${r.scope}, which the signed manifest does not list`, r.id);
      return;
    }
    const state = this.states.get(r.scope);
    if (!state) {
      if (scope.count === 0) this.problem(Stage.Records, `${at}: the signed manifest says scope ${r.scope} has no records in the range`, r.id);
      else if (r.seq !== scope.prevSeq + 1 || r.prevHash !== scope.prevHash || r.hash !== scope.firstHash) {
        this.problem(Stage.Records, `${at} is record #${r.seq} of scope ${r.scope}, but the signed manifest says the scope's records start at #${scope.prevSeq + 1} (records dropped at the start?)`, r.id);
      }
      this.states.set(r.scope, { count: 1, firstSeq: r.seq, lastSeq: r.seq, lastHash: r.hash, signedThrough: scope.prevSeq });
      return;
    }
    if (r.prevHash !== state.lastHash || r.seq !== state.lastSeq + 1) {
      this.problem(Stage.Records, `${at}: a record of scope ${r.scope} is missing or out of order before this one (expected #${state.lastSeq + 1}, found #${r.seq})`, r.id);
    }
    state.count++;
    state.lastSeq = r.seq;
    state.lastHash = r.hash;
  }

  private unmatched(c: SignedCheckpoint): void {
    const id = `checkpoint ${c.scope}@${c.position}`;
    this.problem(Stage.Checkpoints, `${id}: the bundle holds no record at position ${c.position} (dropped?)`, id);
  }

  private match(c: SignedCheckpoint, r: ChainedEnvelope): void {
    const id = `checkpoint ${c.scope}@${c.position}`;
    if (c.scope !== r.scope || c.count !== r.seq || c.headHash !== r.hash) {
      this.problem(Stage.Checkpoints, `${id} disagrees with the record at position ${c.position} (event ${r.id}: scope ${r.scope}, #${r.seq}, hash ${r.hash.slice(0, 12)}…; signed: scope ${c.scope}, #${c.count}, hash ${c.headHash.slice(0, 12)}…)`, id);
      return;
    }
    if (!this.validCheckpoint.has(c)) return;
    const state = this.states.get(c.scope);
    if (!state) return;
    const covers = c.count - Math.max(state.signedThrough, state.firstSeq - 1);
    state.signedThrough = Math.max(state.signedThrough, c.count);
    this.signatures.push({ scope: c.scope, position: c.position, keyId: c.keyId, throughSeq: c.count, covers: Math.max(0, covers) });
  }

  private csvProblem(problem: string, record?: string): void {
    if (this.csvBroken) return;
    this.csvBroken = true;
    this.problem(Stage.Csv, problem, record ?? BUNDLE_FILES.csv);
  }

  private async compareCsv(r: ChainedEnvelope, at: string): Promise<void> {
    if (!this.csv || this.csvBroken) return;
    for (const expected of csvRowsOf(r)) {
      const next = await this.csv.next();
      this.csvRow++;
      if (next.done) return this.csvProblem(`${BUNDLE_FILES.csv} ends before the rows of ${at}`, r.id);
      const actual = next.value.bytes.toString('utf8');
      if (actual === expected) continue;
      const a = csvCells(actual);
      const e = csvCells(expected);
      if (a[0] !== e[0]) return this.csvProblem(`${BUNDLE_FILES.csv} row ${this.csvRow} is for event ${a[0] || '(none)'} where ${at} was expected (rows added, dropped or reordered)`, r.id);
      const column = e.findIndex((cell, i) => cell !== a[i]);
      const name = column >= 0 ? CSV_COLUMNS[column] : `column ${e.length + 1}`;
      return this.csvProblem(`${BUNDLE_FILES.csv} row ${this.csvRow} does not show ${at} as recorded: ${name} is ${JSON.stringify(a[column >= 0 ? column : e.length] ?? '')}, the event says ${JSON.stringify(column >= 0 ? e[column] : '')}`, r.id);
    }
  }

  private checkEnds(): void {
    const m = this.manifest;
    for (const [scope, s] of Object.entries(m.scopes)) {
      const state = this.states.get(scope);
      if (s.count > 0 && !state) this.problem(Stage.Coverage, `scope ${scope}: the signed manifest counts ${s.count} records in the range, the bundle holds none (scope removed?)`, scope);
      if (!state) continue;
      if (state.count !== s.count) this.problem(Stage.Coverage, `scope ${scope}: the signed manifest counts ${s.count} records, the bundle holds ${state.count}`, scope);
      if (s.lastHash !== undefined && state.lastHash !== s.lastHash) this.problem(Stage.Coverage, `scope ${scope}: the chain ends at hash ${state.lastHash.slice(0, 12)}…, the signed manifest at ${s.lastHash.slice(0, 12)}… (records dropped or rewritten at the end)`, scope);
      const tail = state.lastSeq - Math.max(state.signedThrough, state.firstSeq - 1);
      if (tail > 0 && !this.options.allowUnsignedTail) {
        this.problem(Stage.Coverage, `scope ${scope}: the last ${tail} records (after #${state.signedThrough}) are covered by no signed checkpoint (use --allow-unsigned-tail to accept)`, scope);
      }
    }
    const named = new Set(this.checkpoints.map((c) => c.scope));
    for (const scope of named) {
      if (!this.states.has(scope)) {
        const c = this.checkpoints.find((x) => x.scope === scope)!;
        this.problem(Stage.Coverage, `scope ${scope} is named by signed checkpoint ${scope}@${c.position} but has no records in the bundle`, scope);
      }
    }
    if (this.events !== m.events) this.problem(Stage.Coverage, `the signed manifest counts ${m.events} records, ${BUNDLE_FILES.events} holds ${this.events}`, BUNDLE_FILES.events);
  }

  private verdict(): Verdict {
    const problems = this.problems.sort((a, b) => a.stage - b.stage || a.seq - b.seq).map((x) => x.p);
    if (this.truncated) problems.push({ problem: `… and ${this.truncated} more problems` });
    const m = this.manifest as SignedManifest | undefined;
    const perScope: ScopeReport[] = [...this.states].map(([scope, s]) => ({
      scope,
      events: s.count,
      firstSeq: s.firstSeq,
      lastSeq: s.lastSeq,
      signed: Math.max(0, Math.min(s.lastSeq, s.signedThrough) - (s.firstSeq - 1)),
      unsignedTail: Math.max(0, s.lastSeq - Math.max(s.signedThrough, s.firstSeq - 1)),
    }));
    for (const [scope, s] of Object.entries(m?.scopes ?? {})) if (!this.states.has(scope) && s.count === 0) perScope.push({ scope, events: 0, signed: 0, unsignedTail: 0 });
    perScope.sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    return {
      ok: problems.length === 0,
      ...(problems[0] ? { problem: problems[0].problem, ...(problems[0].record !== undefined ? { record: problems[0].record } : {}) } : {}),
      problems,
      events: this.events,
      scopes: this.states.size,
      checkpoints: this.signatures.length,
      ...(m ? { range: { fromPosition: m.fromPosition, toPosition: m.toPosition } } : {}),
      trust: this.trust,
      keys: [...this.trusted.entries()].map(([keyId, k]) => ({ keyId, fingerprint: k.fingerprint })),
      perScope,
      signatures: this.signatures,
    };
  }
}

/** The first bundle format: a pretty-printed, unsigned manifest with `eventsSha256`. */
function olderFormat(text: string): boolean {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    return isObject(v) && 'eventsSha256' in v && !('signature' in v);
  } catch {
    return false;
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function manifestShape(v: unknown): SignedManifest | string {
  if (!isObject(v)) return 'not an object';
  if (v.format !== BUNDLE_FORMAT) return `format is ${JSON.stringify(v.format)}`;
  if (typeof v.fromPosition !== 'string' || !POSITION.test(v.fromPosition) || typeof v.toPosition !== 'string' || !POSITION.test(v.toPosition)) return 'fromPosition and toPosition must be decimal strings';
  if (!isInt(v.events) || !isInt(v.checkpoints)) return 'events and checkpoints must be counts';
  if (typeof v.keyId !== 'string' || typeof v.keyFingerprint !== 'string' || typeof v.signature !== 'string' || typeof v.createdAt !== 'string') return 'keyId, keyFingerprint, createdAt and signature are required';
  if (!isObject(v.scopes)) return 'scopes must be an object';
  for (const [scope, s] of Object.entries(v.scopes)) {
    const e = s as Partial<ManifestScope>;
    if (!isObject(s) || !isInt(e.count) || !isInt(e.prevSeq) || typeof e.prevHash !== 'string' || !HEX64.test(e.prevHash)) return `scope ${scope} is malformed`;
    if (e.prevSeq === 0 && e.prevHash !== GENESIS) return `scope ${scope} starts at #1 but not from the genesis hash`;
    if (e.count > 0 && (typeof e.firstHash !== 'string' || typeof e.lastHash !== 'string')) return `scope ${scope} lacks its first and last hash`;
  }
  if (!isObject(v.files)) return 'files must be an object';
  for (const [name, f] of Object.entries(v.files)) {
    const d = f as Partial<FileDigest>;
    if (!isObject(f) || typeof d.sha256 !== 'string' || !HEX64.test(d.sha256) || !isInt(d.bytes) || name.includes('/') || name === BUNDLE_FILES.manifest) return `file ${name} is malformed`;
  }
  return v as unknown as SignedManifest;
}

const CHECKPOINT_KEYS = ['count', 'headHash', 'keyId', 'position', 'scope', 'signature', 'time'].join();

function checkpointShape(v: unknown): SignedCheckpoint | string {
  if (!isObject(v) || Object.keys(v).sort().join() !== CHECKPOINT_KEYS) return `is not a signed checkpoint (fields ${CHECKPOINT_KEYS})`;
  if (typeof v.scope !== 'string' || typeof v.position !== 'string' || !POSITION.test(v.position) || !isInt(v.count, 1) || typeof v.headHash !== 'string' || typeof v.keyId !== 'string' || typeof v.signature !== 'string' || typeof v.time !== 'string') {
    return 'is a malformed checkpoint';
  }
  return v as unknown as SignedCheckpoint;
}

function recordShape(v: unknown): ChainedEnvelope | string {
  if (!isObject(v)) return 'is not an object';
  if (typeof v.id !== 'string' || typeof v.scope !== 'string' || typeof v.type !== 'string') return 'lacks id, type or scope';
  if (typeof v.position !== 'string' || !POSITION.test(v.position)) return 'has no valid position';
  if (!isInt(v.seq, 1)) return 'has no valid seq';
  if (typeof v.prevHash !== 'string' || !HEX64.test(v.prevHash) || typeof v.hash !== 'string' || !HEX64.test(v.hash)) return 'has no valid prevHash and hash';
  return v as unknown as ChainedEnvelope;
}
