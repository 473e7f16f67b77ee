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
 *
 * The filter is filled from the store in pages, a turn of the event loop between them, and
 * answers "may exist" (the SQL look-up decides) until it holds every id: at a million users
 * the index holds millions of stream ids, and reading them in one go held the start (and a
 * resize, the event loop) for seconds. Ids added while it fills go into it too.
 */
/** Stream ids after `after` (all from the first when undefined), in order, at most `limit`. */
export type StreamIdPage = (after: string | undefined, limit: number) => readonly string[];

interface Bits {
  readonly bits: Uint32Array;
  readonly mask: number;
  readonly capacity: number;
  count: number;
}

/** Ids read per turn of the event loop while the filter fills (a few ms). */
const FILL_PAGE = 2000;

export class StreamExistenceFilter {
  /** What answers; undefined until the first fill completed. */
  private current?: Bits;
  /** Being filled from the store (at start, or after the current one outgrew its capacity). */
  private next?: Bits;
  private filling?: Promise<void>;

  /** 10 bits and 7 probes per stream: about 1 % false positives at capacity. */
  private static readonly BITS_PER_STREAM = 10;
  private static readonly PROBES = 7;

  constructor(
    expected: number,
    /** Lists the stored stream ids a page at a time; read again whenever the filter outgrows its capacity. */
    private readonly storedIds: StreamIdPage,
  ) {
    this.fill(expected);
  }

  /** Resolves when the fill under way (if any) has ended. */
  async settled(): Promise<void> {
    while (this.filling) await this.filling;
  }

  /** Call before the stream's first event is written. */
  add(streamId: string): void {
    hash(streamId);
    if (this.current) StreamExistenceFilter.set(this.current);
    if (this.next) StreamExistenceFilter.set(this.next);
    if (this.current && !this.next && this.current.count > this.current.capacity) this.fill(this.current.capacity * 2);
  }

  mightExist(streamId: string): boolean {
    const c = this.current;
    if (!c) return true;
    hash(streamId);
    for (let i = 0; i < StreamExistenceFilter.PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & c.mask;
      if ((c.bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** Sets the bits of the id last hashed. */
  private static set(b: Bits): void {
    for (let i = 0; i < StreamExistenceFilter.PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & b.mask;
      b.bits[bit >>> 5] |= 1 << (bit & 31);
    }
    b.count++;
  }

  private fill(expected: number): void {
    const capacity = Math.max(expected, 65_536);
    // A power of two, so a probe is a mask rather than a modulo.
    const size = 2 ** Math.ceil(Math.log2(capacity * StreamExistenceFilter.BITS_PER_STREAM));
    const next: Bits = { bits: new Uint32Array(size / 32), mask: size - 1, capacity, count: 0 };
    this.next = next;
    this.filling = (async () => {
      let after: string | undefined;
      try {
        for (;;) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          const ids = this.storedIds(after, FILL_PAGE);
          for (const id of ids) {
            hash(id);
            StreamExistenceFilter.set(next);
          }
          if (ids.length < FILL_PAGE) break;
          after = ids[ids.length - 1];
        }
      } catch {
        // The store closed (or failed) while filling: keep answering as before; the SQL look-up stays the truth.
        if (this.next === next) this.next = undefined;
        return;
      } finally {
        this.filling = undefined;
      }
      if (this.next !== next) return;
      this.current = next;
      this.next = undefined;
    })();
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
