import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long one request may hold the event loop before it lets others in. Every other
 * tenant's request waits behind a synchronous stretch, so long work is cut into slices of
 * about this size (a few milliseconds: far below the 250 ms p99 a victim may see).
 */
export const SLICE_MS = 10;

/** A clock for one long task: `due()` says when the current slice is spent. */
export class Slicer {
  private started = performance.now();

  constructor(private readonly budgetMs = SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.started >= this.budgetMs;
  }

  /** Lets queued I/O and timers run (setImmediate: after I/O callbacks), then starts a new slice. */
  async yield(): Promise<void> {
    await nextTurn();
    this.started = performance.now();
  }

  /** Yields only when the slice is spent. */
  async maybeYield(): Promise<void> {
    if (this.due()) await this.yield();
  }
}

/** `items.map(fn)`, yielding to the event loop whenever a slice is spent. */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T, index: number) => R, budgetMs = SLICE_MS): Promise<R[]> {
  const slicer = new Slicer(budgetMs);
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) {
    out[i] = fn(items[i], i);
    if ((i & 15) === 15) await slicer.maybeYield();
  }
  return out;
}
