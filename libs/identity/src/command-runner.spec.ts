import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type EventStore, StreamNotFoundError, WrongExpectedRevisionError } from '@app/event-store';
import { SqliteEventStore } from '@app/event-store/adapters';
import { openSqliteDatabase } from '@app/event-store/adapters';
import { runCommand } from './command-runner';
import { PreconditionFailed } from './errors';

const noPause = () => Promise.resolve();
const event = (n: number) => ({ id: randomUUID(), type: 'Counted', data: { n } });

async function revisionOf(store: EventStore, streamId: string): Promise<bigint> {
  try {
    const events = await store.readStream(streamId);
    return events[events.length - 1].revision;
  } catch (err) {
    if (err instanceof StreamNotFoundError) return -1n;
    throw err;
  }
}

/** One load → decide → append, with another writer slipping in `interleave` times between load and append. */
function counter(store: EventStore, streamId: string, interleave: number) {
  let slipped = 0;
  return async ({ checkPrecondition }: { checkPrecondition(r: bigint): void }) => {
    const revision = await revisionOf(store, streamId);
    checkPrecondition(revision);
    if (slipped++ < interleave) await store.append(streamId, [event(-1)], revision < 0n ? 'no_stream' : revision);
    return store.append(streamId, [event(1)], revision < 0n ? 'no_stream' : revision);
  };
}

describe('runCommand', () => {
  const store = () => new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));

  it('retries from a fresh load when another writer appended first, and the append lands once', async () => {
    const s = store();
    await runCommand(undefined, counter(s, 'c-1', 3), { pause: noPause });
    const counted = (await s.readStream('c-1')).map((e) => e.data.n);
    expect(counted).toEqual([-1, -1, -1, 1]);
  });

  it('refuses with 412, writing nothing, when If-Match names a revision that is not current', async () => {
    const s = store();
    await s.append('c-2', [event(0)], 'no_stream');
    await expect(runCommand({ streamId: 'c-2', ifMatch: 5n }, counter(s, 'c-2', 0), { pause: noPause })).rejects.toBeInstanceOf(PreconditionFailed);
    expect(await revisionOf(s, 'c-2')).toBe(0n);
  });

  it('turns a concurrent write to the If-Match stream into 412 instead of retrying past the client', async () => {
    const s = store();
    await s.append('c-3', [event(0)], 'no_stream');
    const attempt = counter(s, 'c-3', 1);
    let attempts = 0;
    const counted: typeof attempt = (run) => (attempts++, attempt(run));
    await expect(runCommand({ streamId: 'c-3', ifMatch: 0n }, counted, { pause: noPause })).rejects.toBeInstanceOf(PreconditionFailed);
    expect(attempts).toBe(1);
    expect((await s.readStream('c-3')).map((e) => e.data.n)).toEqual([0, -1]);
  });

  it('retries conflicts on streams the client named no version of, even with If-Match', async () => {
    const s = store();
    await s.append('c-4', [event(0)], 'no_stream');
    let reservationTaken = false;
    const result = await runCommand(
      { streamId: 'c-4', ifMatch: 0n },
      async ({ checkPrecondition, attempt }) => {
        checkPrecondition(await revisionOf(s, 'c-4'));
        if (!reservationTaken) {
          reservationTaken = true;
          throw new WrongExpectedRevisionError('reservation-x', 'no_stream', 0n);
        }
        await s.append('c-4', [event(1)], 0n);
        return attempt;
      },
      { pause: noPause },
    );
    expect(result).toBe(2);
  });

  it('gives up after maxAttempts with the conflict, and passes other errors through untouched', async () => {
    const s = store();
    await expect(runCommand(undefined, counter(s, 'c-5', 10), { maxAttempts: 3, pause: noPause })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    const boom = new Error('boom');
    await expect(runCommand(undefined, () => Promise.reject(boom), { pause: noPause })).rejects.toBe(boom);
  });
});
