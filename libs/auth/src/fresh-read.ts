/**
 * Reads by key where every caller must get an answer from a read that started after it
 * called (so it sees every write acknowledged before its request), while concurrent callers
 * for one key share reads: one in flight, and at most one queued behind it for everyone who
 * arrived meanwhile. Under load that is one or two reads at a time per key, not one per call.
 */
export class FreshRead<K, V> {
  private readonly slots = new Map<K, { current?: Promise<V>; queued?: Promise<V> }>();

  constructor(private readonly read: (key: K) => Promise<V>) {}

  get(key: K): Promise<V> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {};
      this.slots.set(key, slot);
    }
    const current = slot.current;
    if (!current) return this.start(key, slot);
    const s = slot;
    // The read in flight may have started before this caller's request: wait for the next one.
    s.queued ??= current
      .catch(() => undefined)
      .then(() => {
        s.queued = undefined;
        return this.start(key, s);
      });
    return s.queued;
  }

  private start(key: K, slot: { current?: Promise<V>; queued?: Promise<V> }): Promise<V> {
    const p = this.read(key).finally(() => {
      if (slot.current !== p) return;
      slot.current = undefined;
      if (!slot.queued && this.slots.get(key) === slot) this.slots.delete(key);
    });
    slot.current = p;
    return p;
  }
}
