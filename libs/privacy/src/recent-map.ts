/**
 * A bounded map of the last entries set: two generations of at most `limit / 2` each, the
 * older dropped whole when the newer fills. Evicting the oldest key of one Map one at a time
 * (`keys().next()` then `delete`) is O(deleted entries) in V8, which skips the holes left at
 * the front until the table is rehashed: sealing a 9,000-member group write spent ~0.8 s of a
 * single event-loop block there. Hand-written because it is a dozen lines and the LRU packages
 * do more (recency on read, TTLs) than this needs.
 */
export class RecentMap<V> {
  private newer = new Map<string, V>();
  private older = new Map<string, V>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.newer.size + this.older.size;
  }

  get(key: string): V | undefined {
    return this.newer.get(key) ?? this.older.get(key);
  }

  set(key: string, value: V): void {
    // A key set again lives in the newer generation only, so a drop of the older never loses it.
    this.older.delete(key);
    this.newer.set(key, value);
    if (this.newer.size >= this.limit / 2) {
      this.older = this.newer;
      this.newer = new Map();
    }
  }

  delete(key: string): void {
    this.newer.delete(key);
    this.older.delete(key);
  }

  has(key: string): boolean {
    return this.newer.has(key) || this.older.has(key);
  }

  deleteWhere(test: (value: V) => boolean): void {
    for (const map of [this.newer, this.older]) for (const [k, v] of map) if (test(v)) map.delete(k);
  }
}
