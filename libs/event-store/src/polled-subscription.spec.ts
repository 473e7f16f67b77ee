import { StoreUnavailableError } from './errors';
import type { RecordedEvent, SubscriptionMessage } from './event-store.port';
import { type LogPage, type PolledLog, readWindow, subscribePolled } from './polled-subscription';

const event = (position: bigint): RecordedEvent => ({
  id: `e${position}`,
  streamId: 's',
  revision: position,
  position,
  type: 'T',
  data: {},
  metadata: {},
  recordedAt: new Date(0),
});

/** A log of `head + 1` events read by window; `failures` reads answer StoreUnavailableError first. */
function fakeLog(head: bigint, failures: number, withPause: boolean): PolledLog & { reads: bigint[] } {
  const reads: bigint[] = [];
  let failing = failures;
  return {
    reads,
    isClosed: () => false,
    readPage: (position, window): Promise<LogPage> => {
      reads.push(position);
      if (failing-- > 0) return Promise.reject(new StoreUnavailableError('away'));
      return readWindow(position, window, head, (after, upTo) => {
        const out: RecordedEvent[] = [];
        for (let p = after + 1n; p <= upTo; p++) out.push(event(p));
        return out;
      });
    },
    waitForAppend: () => Promise.resolve(),
    wake: () => undefined,
    ...(withPause ? { pause: () => Promise.resolve() } : {}),
  };
}

async function until(log: PolledLog, stop: (m: SubscriptionMessage) => boolean, fromPosition?: bigint) {
  const sub = subscribePolled(log, { fromPosition, filter: { eventTypes: ['T'] }, checkpointInterval: 2 });
  const seen: SubscriptionMessage[] = [];
  for await (const m of sub) {
    seen.push(m);
    if (stop(m)) break;
  }
  await sub.unsubscribe();
  return seen;
}

describe('polled subscription', () => {
  it('delivers after its start in windows, then caught-up once at the head', async () => {
    const seen = await until(fakeLog(4n, 0, false), (m) => m.kind === 'caught-up', 0n);
    expect(seen.map((m) => (m.kind === 'event' ? m.event.position : m.kind))).toEqual([1n, 2n, 3n, 4n, 'caught-up']);
  });

  it('resumes from the same position after the store was away, when the store can pause', async () => {
    const log = fakeLog(2n, 2, true);
    const seen = await until(log, (m) => m.kind === 'caught-up');
    expect(seen.map((m) => (m.kind === 'event' ? m.event.position : m.kind))).toEqual([0n, 1n, 2n, 'checkpoint', 'caught-up']);
    expect(log.reads.slice(0, 3)).toEqual([-1n, -1n, -1n]);
  });

  it('ends with the error when the store cannot pause (the embedded store)', async () => {
    await expect(until(fakeLog(2n, 1, false), () => false)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('refuses a checkpoint interval that would never advance', () => {
    expect(() => subscribePolled(fakeLog(0n, 0, false), { filter: { eventTypes: ['T'] }, checkpointInterval: 0 })).toThrow(RangeError);
  });
});
