/**
 * Which streams may exist: a Bloom filter over stream ids, so that the store answers "no such
 * stream" without touching the disk. Most look-ups of a create are exactly that: the
 * reservation streams of a new userName, externalId, email and username do not exist yet, and
 * their ids are hashes spread over an index far larger than the page cache.
 *
 * A false "may exist" only costs the SQL look-up it replaces; "does not exist" is always true,
 * because every stream id is added before its first event commits. Ids of rolled-back appends
 * stay in the filter, which is harmless for the same reason.
 *
 * Written here rather than taken from npm: the maintained Bloom filter packages bring several
 * dependencies (hashing, serialisation, random seeds) for what is thirty lines over a typed
 * array, and this one needs no serialisation (it is rebuilt from the index on start).
 */
export class StreamExistenceFilter {
  private bits: Uint32Array;
  private mask: number;
  private count = 0;
  private capacity: number;

  /** 10 bits and 7 probes per stream: about 1 % false positives at capacity. */
  private static readonly BITS_PER_STREAM = 10;
  private static readonly PROBES = 7;

  constructor(
    expected: number,
    /** Lists every stream id; called again whenever the filter outgrows its capacity. */
    private readonly allStreamIds: () => Iterable<string>,
  ) {
    this.capacity = 0;
    this.bits = new Uint32Array(0);
    this.mask = 0;
    this.resize(expected);
  }

  /** Call before the stream's first event is written (a resize re-reads the written ids). */
  add(streamId: string): void {
    if (this.count + 1 > this.capacity) this.resize(this.capacity * 2);
    this.setAll(streamId);
    this.count++;
  }

  mightExist(streamId: string): boolean {
    hash(streamId);
    for (let i = 0; i < StreamExistenceFilter.PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  private setAll(streamId: string): void {
    hash(streamId);
    for (let i = 0; i < StreamExistenceFilter.PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  private resize(expected: number): void {
    this.capacity = Math.max(expected, 65_536);
    // A power of two, so a probe is a mask rather than a modulo.
    const size = 2 ** Math.ceil(Math.log2(this.capacity * StreamExistenceFilter.BITS_PER_STREAM));
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
    this.count = 0;
    for (const id of this.allStreamIds()) {
      this.setAll(id);
      this.count++;
    }
  }
}

// The two hashes of the last id hashed: module state instead of a returned pair, which
// would allocate on every look-up.
let h1 = 0;
let h2 = 0;

/** Two 32-bit FNV-1a variants over UTF-16 code units; the second is odd so probes differ. */
function hash(s: string): void {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  h1 = (a ^ (a >>> 15)) >>> 0;
  h2 = ((b ^ (b >>> 13)) | 1) >>> 0;
}
