import { randomUUID } from 'node:crypto';
import {
  type AppendResult,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type RecordedEvent,
  StoreUnavailableError,
  StreamNotFoundError,
  UnsupportedOperationError,
  WrongExpectedRevisionError,
} from '@app/event-store';
import { DomainError, UniquenessViolation } from './errors';
import { type ReservationKey, reservationStream } from './reservations';
import { type Claim, NothingToCommit, ORPHAN_TIMEOUT_MS, UnitOfWork } from './unit-of-work';

type Fault = 'lost-answer' | 'unavailable';

/**
 * A store like EventStoreDB without multi-stream append: one stream per append, idempotent
 * re-append of the same ids at an exact expected revision, and the store's own clock for
 * `recordedAt`. `faults` makes chosen appends fail: `lost-answer` commits and then reports a
 * timeout (the answer raced the deadline), `unavailable` fails without writing.
 */
class NonAtomicStore implements Pick<EventStore, 'append' | 'readStream' | 'appendMulti'> {
  readonly name = 'eventstoredb' as const;
  readonly supportsMultiStreamAppend = false;
  readonly streams = new Map<string, RecordedEvent[]>();
  readonly appends: string[] = [];
  faults: ((streamId: string, events: readonly EventData[]) => Fault | undefined)[] = [];
  storeNow = new Date('2026-05-01T12:00:00Z');
  private position = 0n;

  async append(streamId: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    this.appends.push(`${streamId}:${events.map((e) => e.type).join(',')}`);
    const fault = this.faults.shift()?.(streamId, events);
    if (fault === 'unavailable') throw new StoreUnavailableError('EventStoreDB did not answer (append) within 3000 ms');
    const result = this.commit(streamId, events, expected);
    if (fault === 'lost-answer') throw new StoreUnavailableError('EventStoreDB did not answer (append) within 3000 ms');
    return result;
  }

  async appendMulti(): Promise<AppendResult> {
    throw new UnsupportedOperationError('no multi-stream append');
  }

  async readStream(streamId: string): Promise<RecordedEvent[]> {
    const events = this.streams.get(streamId);
    if (!events?.length) throw new StreamNotFoundError(streamId);
    return [...events];
  }

  private commit(streamId: string, events: readonly EventData[], expected: ExpectedRevision): AppendResult {
    const stream = this.streams.get(streamId) ?? [];
    const current = BigInt(stream.length) - 1n;
    const exact = expected === 'no_stream' ? -1n : typeof expected === 'bigint' ? expected : undefined;
    if (exact !== undefined && exact < current) {
      const written = stream.slice(Number(exact) + 1, Number(exact) + 1 + events.length);
      if (written.length === events.length && written.every((e, i) => e.id === events[i].id)) {
        return { nextExpectedRevision: written.at(-1)!.revision, position: written.at(-1)!.position };
      }
    }
    if (
      (exact !== undefined && exact !== current) ||
      (expected === 'stream_exists' && current < 0n)
    ) {
      throw new WrongExpectedRevisionError(streamId, expected, current);
    }
    for (const e of events) {
      stream.push({
        id: e.id,
        streamId,
        revision: BigInt(stream.length),
        position: ++this.position,
        type: e.type,
        data: e.data,
        metadata: e.metadata ?? {},
        recordedAt: this.storeNow,
      });
    }
    this.streams.set(streamId, stream);
    return { nextExpectedRevision: BigInt(stream.length) - 1n, position: this.position };
  }
}

const scope = 'scope-1';
const key = (value: string): ReservationKey => ({ kind: 'displayName', scopeKey: scope, value });
const groupOwner = (id: string) => ({ stream: `scimGroup-${id}`, id });
const claimFor = (value: string, id: string): Claim => ({ ...key(value), owner: groupOwner(id) });
const created = (id: string, displayName: string) => ({
  type: 'ScimGroupCreated',
  data: { groupId: id, scope, displayName },
});

describe('UnitOfWork on a store without atomic multi-stream append (the reservation saga)', () => {
  let store: NonAtomicStore;
  let clock: Date;
  let uow: UnitOfWork;
  const holder = async (value: string) => (await uow.reservation(key(value))).holder;
  const createGroup = (id: string, displayName: string) =>
    uow.commit({
      claims: [claimFor(displayName, id)],
      writes: [{ streamId: `scimGroup-${id}`, expectedRevision: 'no_stream', events: [created(id, displayName)] }],
      metadata: { occurredAt: clock.toISOString() },
    });

  beforeEach(() => {
    store = new NonAtomicStore();
    clock = new Date(store.storeNow.getTime() + 1000);
    uow = new UnitOfWork(store as unknown as EventStore, () => clock);
  });

  it('keeps the claim when the entity write committed but its answer was lost (resolved by re-appending)', async () => {
    store.faults = [() => undefined, () => 'lost-answer'];
    await createGroup('g1', 'Admins');
    expect(await holder('Admins')).toEqual(groupOwner('g1'));
    expect(store.streams.get('scimGroup-g1')).toHaveLength(1);
    // The value stays taken: a second group cannot have it.
    await expect(createGroup('g2', 'admins')).rejects.toBeInstanceOf(UniquenessViolation);
  });

  it('never releases a claim while the entity write stays unknown (the store down for the resolving appends)', async () => {
    const down = (streamId: string): Fault | undefined => (streamId.startsWith('scimGroup-') ? 'unavailable' : undefined);
    store.faults = [() => undefined, () => 'lost-answer', down, down, down];
    await expect(createGroup('g1', 'Admins')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(store.streams.get('scimGroup-g1')).toHaveLength(1);
    expect(await holder('Admins')).toEqual(groupOwner('g1'));
    expect(store.appends.filter((a) => a.endsWith('ValueReleased'))).toEqual([]);
  });

  it('releases the claim when the entity write definitely failed', async () => {
    // g1's stream written by someone else first: the write conflicts, nothing of ours was written.
    await store.append('scimGroup-g1', [{ id: randomUUID(), ...created('g1', 'First') }], 'no_stream');
    await expect(createGroup('g1', 'Admins')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(await holder('Admins')).toBeUndefined();
  });

  it('frees a value whose owner exists but never took it (failed write and failed release) once old enough', async () => {
    await createGroup('g1', 'Admins');
    // g1 tries to rename to "Ops": the claim lands, the rename conflicts, the release fails.
    store.faults = [() => undefined, () => undefined, () => 'unavailable'];
    await expect(
      uow.commit({
        claims: [claimFor('Ops', 'g1')],
        writes: [{ streamId: 'scimGroup-g1', expectedRevision: 5n, events: [{ type: 'ScimGroupRenamed', data: { from: 'Admins', to: 'Ops' } }] }],
        metadata: {},
      }),
    ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(await holder('Ops')).toEqual(groupOwner('g1'));

    await expect(createGroup('g2', 'Ops')).rejects.toBeInstanceOf(UniquenessViolation);
    clock = new Date(store.storeNow.getTime() + ORPHAN_TIMEOUT_MS + 1);
    await createGroup('g2', 'Ops');
    expect(await holder('Ops')).toEqual(groupOwner('g2'));
    // A value its owner does hold is never taken over, however old.
    await expect(createGroup('g3', 'Admins')).rejects.toBeInstanceOf(UniquenessViolation);
  });

  it("counts a reservation's age from the store's recorded time, not the writer's clock", async () => {
    // Another instance, its clock an hour behind, claimed "Ops" for a group whose write is still on its way.
    const stream = reservationStream(key('Ops'));
    await store.append(
      stream,
      [
        {
          id: randomUUID(),
          type: 'ValueReserved',
          data: { kind: 'displayName', scopeKey: scope, owner: groupOwner('g1') },
          metadata: { occurredAt: new Date(store.storeNow.getTime() - 3_600_000).toISOString() },
        },
      ],
      'no_stream',
    );
    await expect(createGroup('g2', 'Ops')).rejects.toBeInstanceOf(UniquenessViolation);
    // Our clock (injected) passes the timeout by the store's time: the orphan is taken over.
    clock = new Date(store.storeNow.getTime() + ORPHAN_TIMEOUT_MS + 1);
    await createGroup('g2', 'Ops');
    expect(await holder('Ops')).toEqual(groupOwner('g2'));
  });
});

describe('UnitOfWork reservation prefetch', () => {
  it('reads every missing reservation in one readStreams call when the store has it, with the states one by one reads give', async () => {
    const store = new NonAtomicStore();
    const uow = new UnitOfWork(store as unknown as EventStore, () => new Date());
    await uow.commit({
      claims: [claimFor('Taken', 'g1')],
      writes: [{ streamId: 'scimGroup-g1', expectedRevision: 'no_stream', events: [created('g1', 'Taken')] }],
      metadata: {},
    });
    const keys = [key('Taken'), key('Free'), key('Other')];
    const oneByOne = await Promise.all(keys.map((k) => uow.reservation(k)));

    const batched = Object.assign(store, {
      readStreams: jest.fn(async (ids: readonly string[]) => new Map(ids.map((id) => [id, [...(store.streams.get(id) ?? [])]]))),
    });
    const readStream = jest.spyOn(store, 'readStream');
    const memo = new Map();
    await new UnitOfWork(batched as unknown as EventStore, () => new Date()).prefetchReservations(keys, memo);
    expect(batched.readStreams).toHaveBeenCalledTimes(1);
    expect(readStream).not.toHaveBeenCalled();
    expect(keys.map((k) => memo.get(reservationStream(k)))).toEqual(oneByOne);
    // Already known: nothing is read again.
    await new UnitOfWork(batched as unknown as EventStore, () => new Date()).prefetchReservations(keys, memo);
    expect(batched.readStreams).toHaveBeenCalledTimes(1);
  });
});

describe('UnitOfWork with nothing to commit', () => {
  it('refuses with a domain error (answered as a refusal, never a 500) and writes nothing', async () => {
    const store = new NonAtomicStore();
    const uow = new UnitOfWork(store as unknown as EventStore, () => new Date());
    const empty = uow.commit({ writes: [{ streamId: 'scimGroup-g1', expectedRevision: 'no_stream', events: [] }], metadata: {} });
    await expect(empty).rejects.toBeInstanceOf(NothingToCommit);
    await expect(empty).rejects.toBeInstanceOf(DomainError);
    expect(store.appends).toEqual([]);
  });
});
