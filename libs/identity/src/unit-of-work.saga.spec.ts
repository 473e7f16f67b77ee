import { randomUUID } from 'node:crypto';
import { type AppendResult, type EventData, type EventStore, type ExpectedRevision, type JsonObject, type ReadAllOptions, type ReadStreamOptions, StoreUnavailableError, StreamNotFoundError, type SubscribeOptions, UnsupportedOperationError, WrongExpectedRevisionError } from '@app/event-store';
import { openSqliteDatabase, SqliteEventStore } from '@app/event-store/adapters';
import { UniquenessViolation } from './errors';
import { type ReservationKey, type ReservationState, reservationStream } from './reservations';
import { type Claim, type CommitRequest, ORPHAN_TIMEOUT_MS, UnitOfWork } from './unit-of-work';

/**
 * What goes wrong with one append: `lost-answer` commits and then reports a timeout (the
 * answer raced the deadline), `unavailable` fails without writing, `crash` never answers and
 * neither does anything after it (the process died at that point of the saga).
 */
type Fault = 'lost-answer' | 'unavailable' | 'crash';

/**
 * The real embedded store, seen through a port that says it cannot append to several streams
 * atomically (as EventStoreDB before 25.1): the unit of work must run the reservation saga,
 * one stream per append, against real revisions, idempotent re-appends and recorded times.
 */
class OneStreamPerAppendStore implements EventStore {
  readonly name = 'eventstoredb' as const;
  readonly supportsMultiStreamAppend = false;
  /** Every append asked for, in order: `stream:Type,Type`. */
  readonly appends: string[] = [];
  private readonly faults: { readonly when: (streamId: string) => boolean; readonly fault: Fault }[] = [];
  private dead = false;
  private died?: () => void;
  /** Resolves once an append hit a `crash` fault. */
  readonly crashed = new Promise<void>((resolve) => (this.died = resolve));

  constructor(private readonly inner: SqliteEventStore) {}

  /** The next append to a stream `when` matches fails with `fault` (once). */
  failNext(when: (streamId: string) => boolean, fault: Fault): this {
    this.faults.push({ when, fault });
    return this;
  }

  async append(streamId: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.dead) return new Promise<never>(() => undefined);
    this.appends.push(`${streamId}:${events.map((e) => e.type).join(',')}`);
    const i = this.faults.findIndex((f) => f.when(streamId));
    const fault = i < 0 ? undefined : this.faults.splice(i, 1)[0].fault;
    if (fault === 'crash') {
      this.dead = true;
      this.died?.();
      return new Promise<never>(() => undefined);
    }
    if (fault === 'unavailable') throw new StoreUnavailableError('EventStoreDB did not answer (append) within 3000 ms');
    const result = await this.inner.append(streamId, events, expected);
    if (fault === 'lost-answer') throw new StoreUnavailableError('EventStoreDB did not answer (append) within 3000 ms');
    return result;
  }

  async appendMulti(): Promise<AppendResult> {
    throw new UnsupportedOperationError('this store cannot append to several streams atomically');
  }

  readStream(streamId: string, options?: ReadStreamOptions) {
    return this.inner.readStream(streamId, options);
  }
  readAll(options?: ReadAllOptions) {
    return this.inner.readAll(options);
  }
  subscribeToAll(options?: SubscribeOptions) {
    return this.inner.subscribeToAll(options);
  }
  headPosition() {
    return this.inner.headPosition();
  }
  close() {
    return this.inner.close();
  }
}

const scope = 'group:top-1' as const;
const key = (value: string): ReservationKey => ({ kind: 'displayName', scopeKey: scope, value });
const resv = (value: string) => reservationStream(key(value));
const owner = (id: string) => ({ stream: `scimGroup-${id}`, id });
const claim = (value: string, id: string): Claim => ({ ...key(value), owner: owner(id) });
const reserved = (id: string) => ({ type: 'ValueReserved', data: { kind: 'displayName', scopeKey: scope, owner: owner(id) } });
const released = (id: string) => ({ type: 'ValueReleased', data: { kind: 'displayName', scopeKey: scope, owner: owner(id) } });
const groupCreated = (id: string, displayName: string) => ({ type: 'ScimGroupCreated', data: { groupId: id, scope, displayName } });
const groupRenamed = (id: string, from: string, to: string) => ({ type: 'ScimGroupRenamed', data: { groupId: id, scope, from, to } });

const createGroup = (id: string, displayName: string, metadata: JsonObject = {}): CommitRequest => ({
  claims: [claim(displayName, id)],
  writes: [{ streamId: `scimGroup-${id}`, expectedRevision: 'no_stream', events: [groupCreated(id, displayName)] }],
  metadata,
});
const renameGroup = (id: string, revision: bigint, from: string, to: string): CommitRequest => ({
  claims: [claim(to, id)],
  releases: [claim(from, id)],
  writes: [{ streamId: `scimGroup-${id}`, expectedRevision: revision, events: [groupRenamed(id, from, to)] }],
  metadata: {},
});

describe('UnitOfWork saga on a real store that cannot append to several streams atomically', () => {
  let sqlite: SqliteEventStore;
  let store: OneStreamPerAppendStore;
  /** The writers' clock: it moves only when a test moves it. */
  let now: Date;
  const writer = (on: EventStore = store) => new UnitOfWork(on, () => now);
  /** A second instance after the first one died: same log, its own port and clock. */
  const restarted = () => writer(new OneStreamPerAppendStore(sqlite));

  /** A stream's events as `{type, data}`, `[]` when it does not exist. */
  const stream = async (id: string) => {
    try {
      return (await sqlite.readStream(id)).map((e) => ({ type: e.type, data: e.data }));
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
  };
  const log = async () => (await sqlite.readAll()).map((e) => `${e.streamId}:${e.type}`);
  /** The store's recorded time of a reservation's last event: the age the orphan check counts from. */
  const claimedAt = async (value: string) => (await sqlite.readStream(resv(value))).at(-1)!.recordedAt.getTime();

  beforeEach(() => {
    sqlite = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
    store = new OneStreamPerAppendStore(sqlite);
    now = new Date();
  });
  afterEach(() => sqlite.close());

  describe('saga order', () => {
    it('claims, then writes the entity, one stream per append, never appendMulti', async () => {
      const appendMulti = jest.spyOn(store, 'appendMulti');
      await writer().commit(createGroup('g1', 'Admins', { occurredAt: '2026-05-01T12:00:00.000Z' }));
      expect(store.appends).toEqual([`${resv('Admins')}:ValueReserved`, 'scimGroup-g1:ScimGroupCreated']);
      expect(await log()).toEqual([`${resv('Admins')}:ValueReserved`, 'scimGroup-g1:ScimGroupCreated']);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([groupCreated('g1', 'Admins')]);
      // The decision's metadata goes on every event it appends, the claim included.
      expect((await sqlite.readAll()).map((e) => e.metadata)).toEqual([
        { occurredAt: '2026-05-01T12:00:00.000Z' },
        { occurredAt: '2026-05-01T12:00:00.000Z' },
      ]);
      expect(appendMulti).not.toHaveBeenCalled();
    });

    it('claims the new value, writes the rename, and only then releases the old value', async () => {
      await writer().commit(createGroup('g1', 'Admins'));
      store.appends.length = 0;
      await writer().commit(renameGroup('g1', 0n, 'Admins', 'Ops'));
      expect(store.appends).toEqual([`${resv('Ops')}:ValueReserved`, 'scimGroup-g1:ScimGroupRenamed', `${resv('Admins')}:ValueReleased`]);
      expect((await log()).slice(2)).toEqual([`${resv('Ops')}:ValueReserved`, 'scimGroup-g1:ScimGroupRenamed', `${resv('Admins')}:ValueReleased`]);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1'), released('g1')]);
      expect(await stream(resv('Ops'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([groupCreated('g1', 'Admins'), groupRenamed('g1', 'Admins', 'Ops')]);
      // Released: the old name is free for another group at once.
      await writer().commit(createGroup('g2', 'admins'));
      expect(await stream(resv('Admins'))).toEqual([reserved('g1'), released('g1'), reserved('g2')]);
    });
  });

  describe('a conflicting claim aborts before the entity stream is written', () => {
    it('a value another owner holds: refused before any append', async () => {
      await writer().commit(createGroup('g1', 'Admins'));
      store.appends.length = 0;
      await expect(writer().commit(createGroup('g2', 'ADMINS'))).rejects.toBeInstanceOf(UniquenessViolation);
      expect(store.appends).toEqual([]);
      expect(await stream('scimGroup-g2')).toEqual([]);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
    });

    it('a claim lost to a racing writer: the claims already taken are released, the entity is not written', async () => {
      await writer().commit(createGroup('g1', 'Admins'));
      store.appends.length = 0;
      // g2 read "Admins" as free before g1 claimed it (a stale read): its claim conflicts in the store.
      const stale = new Map<string, ReservationState>([[resv('Admins'), { revision: -1n }]]);
      const request: CommitRequest = {
        claims: [claim('Ops', 'g2'), claim('Admins', 'g2')],
        writes: [{ streamId: 'scimGroup-g2', expectedRevision: 'no_stream', events: [groupCreated('g2', 'Admins')] }],
        metadata: {},
        memo: stale,
      };
      await expect(writer().commit(request)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(store.appends).toEqual([`${resv('Ops')}:ValueReserved`, `${resv('Admins')}:ValueReserved`, `${resv('Ops')}:ValueReleased`]);
      expect(await stream('scimGroup-g2')).toEqual([]);
      expect(await stream(resv('Ops'))).toEqual([reserved('g2'), released('g2')]);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
    });

    it('two writers racing for one value: the store lets exactly one claim it, the other writes nothing', async () => {
      const results = await Promise.allSettled([writer().commit(createGroup('g1', 'Admins')), writer().commit(createGroup('g2', 'admins'))]);
      const won = results.findIndex((r) => r.status === 'fulfilled');
      const lost = 1 - won;
      expect(won).toBeGreaterThanOrEqual(0);
      expect(results[lost]).toMatchObject({ status: 'rejected', reason: expect.any(WrongExpectedRevisionError) });
      const [winner, loser] = won === 0 ? ['g1', 'g2'] : ['g2', 'g1'];
      expect(await stream(resv('Admins'))).toEqual([reserved(winner)]);
      expect(await stream(`scimGroup-${winner}`)).toHaveLength(1);
      expect(await stream(`scimGroup-${loser}`)).toEqual([]);
    });
  });

  describe('a crash between steps', () => {
    it('after the claim, before the entity write: the value stays blocked until the orphan timeout, then another owner takes it', async () => {
      store.failNext((s) => s.startsWith('scimGroup-'), 'crash');
      void writer().commit(createGroup('g1', 'Admins'));
      await store.crashed;
      expect(await log()).toEqual([`${resv('Admins')}:ValueReserved`]);

      const second = restarted();
      await expect(second.commit(createGroup('g2', 'Admins'))).rejects.toBeInstanceOf(UniquenessViolation);
      now = new Date((await claimedAt('Admins')) + ORPHAN_TIMEOUT_MS);
      await second.commit(createGroup('g2', 'Admins'));
      expect(await stream(resv('Admins'))).toEqual([reserved('g1'), reserved('g2')]);
      expect(await stream('scimGroup-g2')).toEqual([groupCreated('g2', 'Admins')]);
      expect(await stream('scimGroup-g1')).toEqual([]);
    });

    it('after the claim, before the entity write: the same owner retrying finishes with the claim it already has', async () => {
      store.failNext((s) => s.startsWith('scimGroup-'), 'crash');
      void writer().commit(createGroup('g1', 'Admins'));
      await store.crashed;

      await restarted().commit(createGroup('g1', 'Admins'));
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([groupCreated('g1', 'Admins')]);
    });

    it('after the entity write, before the release: the old value stays held until the orphan timeout; the new one is never taken', async () => {
      await writer().commit(createGroup('g1', 'Admins'));
      store.failNext((s) => s === resv('Admins'), 'crash');
      void writer().commit(renameGroup('g1', 0n, 'Admins', 'Ops'));
      await store.crashed;
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
      expect(await stream(resv('Ops'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([groupCreated('g1', 'Admins'), groupRenamed('g1', 'Admins', 'Ops')]);

      const second = restarted();
      await expect(second.commit(createGroup('g2', 'Admins'))).rejects.toBeInstanceOf(UniquenessViolation);
      now = new Date((await claimedAt('Admins')) + ORPHAN_TIMEOUT_MS);
      await second.commit(createGroup('g2', 'Admins'));
      expect(await stream(resv('Admins'))).toEqual([reserved('g1'), reserved('g2')]);
      // g1 does hold "Ops": however old its claim, nobody takes it over.
      now = new Date((await claimedAt('Ops')) + 100 * ORPHAN_TIMEOUT_MS);
      await expect(second.commit(createGroup('g3', 'Ops'))).rejects.toBeInstanceOf(UniquenessViolation);
      expect(await stream(resv('Ops'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g3')).toEqual([]);
    });
  });

  describe('retries are idempotent', () => {
    it('a claim whose answer was lost is re-appended with the same ids and stored once', async () => {
      store.failNext((s) => s === resv('Admins'), 'lost-answer');
      await writer().commit(createGroup('g1', 'Admins'));
      expect(store.appends).toEqual([`${resv('Admins')}:ValueReserved`, `${resv('Admins')}:ValueReserved`, 'scimGroup-g1:ScimGroupCreated']);
      expect(await log()).toEqual([`${resv('Admins')}:ValueReserved`, 'scimGroup-g1:ScimGroupCreated']);
    });

    it('an entity write whose answer was lost is re-appended with the same ids and stored once; the claim stays', async () => {
      store.failNext((s) => s.startsWith('scimGroup-'), 'lost-answer');
      await writer().commit(createGroup('g1', 'Admins'));
      expect(store.appends).toEqual([`${resv('Admins')}:ValueReserved`, 'scimGroup-g1:ScimGroupCreated', 'scimGroup-g1:ScimGroupCreated']);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([groupCreated('g1', 'Admins')]);
    });

    it('the same decision committed again (a client retry) claims nothing twice and releases nothing its owner holds', async () => {
      await writer().commit(createGroup('g1', 'Admins'));
      store.appends.length = 0;
      await expect(writer().commit(createGroup('g1', 'Admins'))).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(store.appends).toEqual(['scimGroup-g1:ScimGroupCreated']);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([groupCreated('g1', 'Admins')]);
    });

    it('an entity write whose outcome stays unknown keeps its claim; the retry finishes with it and claims nothing twice', async () => {
      // Unavailable for the write and for every re-append that tries to resolve it.
      for (let i = 0; i < 4; i++) store.failNext((s) => s.startsWith('scimGroup-'), 'unavailable');
      await expect(writer().commit(createGroup('g1', 'Admins'))).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([]);
      // The retry keeps the claim it has and writes the entity once.
      await writer().commit(createGroup('g1', 'Admins'));
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);
      expect(await stream('scimGroup-g1')).toEqual([groupCreated('g1', 'Admins')]);
    });
  });

  describe('orphan takeover with an injected clock', () => {
    it('a claim whose owner never wrote is taken over exactly when it reaches the takeover age, not a millisecond before', async () => {
      // A writer claimed "Admins" for g1 and died before writing g1.
      await sqlite.append(resv('Admins'), [{ id: randomUUID(), ...reserved('g1'), metadata: {} }], 'no_stream');
      const at = await claimedAt('Admins');

      now = new Date(at + ORPHAN_TIMEOUT_MS - 1);
      await expect(writer().commit(createGroup('g2', 'Admins'))).rejects.toBeInstanceOf(UniquenessViolation);
      expect(await stream(resv('Admins'))).toEqual([reserved('g1')]);

      now = new Date(at + ORPHAN_TIMEOUT_MS);
      await writer().commit(createGroup('g2', 'Admins'));
      expect(await stream(resv('Admins'))).toEqual([reserved('g1'), reserved('g2')]);
      expect(await stream('scimGroup-g2')).toEqual([groupCreated('g2', 'Admins')]);
    });

    it('counts the age from the store\'s recorded time, whatever the claiming writer wrote as its own time', async () => {
      const writersClockHourBehind = new Date(Date.now() - 3_600_000).toISOString();
      await sqlite.append(resv('Admins'), [{ id: randomUUID(), ...reserved('g1'), metadata: { occurredAt: writersClockHourBehind } }], 'no_stream');
      now = new Date((await claimedAt('Admins')) + ORPHAN_TIMEOUT_MS - 1);
      await expect(writer().commit(createGroup('g2', 'Admins'))).rejects.toBeInstanceOf(UniquenessViolation);
    });
  });
});
