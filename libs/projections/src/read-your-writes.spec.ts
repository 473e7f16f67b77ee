import type { ProjectionRunner } from './projection-runner';
import { ReadYourWrites } from './read-your-writes';

function runner(waited: bigint[]): ProjectionRunner {
  return { waitFor: (p: bigint) => (waited.push(p), Promise.resolve(true)) } as unknown as ProjectionRunner;
}

/** A head query the test answers by hand, to order calls around it. */
function manualHead() {
  const pending: ((p: bigint) => void)[] = [];
  return { read: () => new Promise<bigint>((r) => pending.push(r)), pending };
}

describe('ReadYourWrites', () => {
  it('without a shared store, waits for this process’s highest write only', async () => {
    const waited: bigint[] = [];
    const ryw = new ReadYourWrites(runner(waited), 100);
    ryw.wrote(7n);
    await ryw.settle();
    expect(waited).toEqual([7n]);
  });

  it('on a shared store, waits for the store’s head when another instance wrote past this one', async () => {
    const waited: bigint[] = [];
    const ryw = new ReadYourWrites(runner(waited), 100, () => Promise.resolve(42n));
    ryw.wrote(7n);
    await ryw.settle();
    await ryw.settle(3n);
    expect(waited).toEqual([42n, 3n]);
  });

  it('never answers a call with a head query that started before it; later callers share one query', async () => {
    const waited: bigint[] = [];
    const head = manualHead();
    const ryw = new ReadYourWrites(runner(waited), 100, head.read);
    const first = ryw.settle();
    const second = ryw.settle();
    const third = ryw.settle();
    expect(head.pending).toHaveLength(1);
    head.pending[0](10n);
    await first;
    // The second and third arrived while the first query ran: they share one new query.
    await new Promise((r) => setImmediate(r));
    expect(head.pending).toHaveLength(2);
    head.pending[1](11n);
    await Promise.all([second, third]);
    expect(waited).toEqual([10n, 11n, 11n]);
  });
});
