import { withRebuildProgress } from './rebuild-progress';

/** A stderr stand-in that records what is written. */
function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { out: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream, writes };
}

/** GET /api/v1/projections as the server answers it during a rebuild: one step further per poll, done after the last. */
function fakeServer(steps: [number, number][]) {
  let resolveRebuild!: (v: string) => void;
  const rebuild = new Promise<string>((r) => (resolveRebuild = r));
  let polls = 0;
  const api = {
    call: async <T>(method: string, path: string): Promise<T> => {
      expect([method, path]).toEqual(['GET', '/api/v1/projections']);
      const [position, head] = steps[Math.min(polls, steps.length - 1)];
      polls++;
      if (polls === steps.length) resolveRebuild('result');
      return [
        { name: 'audit', rebuilding: { position: String(position), head: String(head), eventsPerSecond: 1 } },
        { name: 'accounts' },
      ] as T;
    },
  };
  return { api, rebuild, polls: () => polls };
}

describe('withRebuildProgress', () => {
  it('polls the status while the rebuild runs and prints plain progress lines when stderr is no terminal', async () => {
    const server = fakeServer([[-1, -1], [0, 1000], [500, 1000], [1000, 1000]]);
    const { out, writes } = sink(false);
    await expect(withRebuildProgress(server.api, undefined, server.rebuild, out, 0)).resolves.toBe('result');
    expect(server.polls()).toBeGreaterThanOrEqual(4);
    // Counts, then the rate so far and the time left (or, at the end, the time it took).
    expect(writes).toEqual([
      'rebuilding all projections: 0% 0/1,000 events\n',
      expect.stringMatching(/^rebuilding all projections: 50% 500\/1,000 events · [\d,]+\/s · \d+:\d\d left\n$/),
      expect.stringMatching(/^rebuilding all projections: 100% 1,000\/1,000 events · [\d,]+\/s · \d+:\d\d\n$/),
    ]);
  });

  it('draws a bar in place on a terminal and ends its line', async () => {
    const server = fakeServer([[250, 1000], [1000, 1000]]);
    const { out, writes } = sink(true);
    await withRebuildProgress(server.api, 'audit', server.rebuild, out, 0);
    expect(writes[0]).toMatch(/^\rrebuilding audit \[#+-+\]\s+25% 250\/1,000 events/);
    expect(writes.at(-1)).toBe('\n');
  });

  it('prints nothing when the rebuild ends before any progress is reported, and passes a failure on', async () => {
    const { out, writes } = sink(false);
    const failing = Promise.reject(new Error('refused'));
    const api = { call: async <T>() => [] as T };
    await expect(withRebuildProgress(api, undefined, failing, out, 0)).rejects.toThrow('refused');
    expect(writes).toEqual([]);
  });
});
