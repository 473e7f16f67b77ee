import { newDataKey, unwrapKey, wrapKey } from './data-key.cipher';
import type { KeyLookup, KeyRow, KeyTable } from './data-key-store.port';
import type { MasterKey } from './master-key';
import { RecentMap } from './recent-map';

/** Sealing for a person whose key was destroyed: the write must not happen (no new key is ever made for them). */
export class PersonErasedError extends Error {
  constructor(readonly personId: string) {
    super(`the personal data of ${personId} was erased`);
    this.name = 'PersonErasedError';
  }
}

/**
 * Keys (and tombstones) held in memory: the persons of the current work, not the whole
 * population (a million persons' keys would be ~200 MB). A person dropped from it is read from
 * the key table again when next needed (`load`, the batch's insert-if-absent, `peek` on SQLite).
 */
const KEYS_IN_MEMORY = 200_000;

/** A new person's key, waiting for the batch that writes it. */
interface NewKey {
  readonly key: Buffer;
  readonly row: KeyRow;
}

/**
 * Per-person data keys: created on first seal, unwrapped once and kept in memory (the last
 * `KEYS_IN_MEMORY` persons), destroyed by `erase`. A destroyed key leaves a tombstone, so no later write can
 * bring a key (and readable data) back for that person.
 *
 * New persons' keys are written in batches: every key asked for in one turn of the event loop
 * goes into one transaction of the key table (at `setImmediate`, as the log's group commit),
 * and each caller gets its key once that transaction is committed. A key is therefore stored
 * before any event sealed with it is handed to the log, as when each key had its own commit;
 * a batch only shares the commit (and its WAL frames) between the POSTs of the same turn.
 */
export class DataKeyStore {
  private readonly cache: RecentMap<KeyLookup>;
  private creating?: Map<string, NewKey>;
  private created?: Promise<ReadonlyMap<string, KeyLookup>>;
  private master?: MasterKey;
  private resolving?: Promise<MasterKey>;

  /**
   * `master` is the key, or where to get it on first use (a shared store's own table, which
   * may be down at start: the server then starts anyway and answers 503 until it is back).
   */
  constructor(
    readonly keyTable: KeyTable,
    master: MasterKey | (() => Promise<MasterKey>),
    private readonly previous?: MasterKey,
    options: { readonly keysInMemory?: number } = {},
  ) {
    this.cache = new RecentMap(options.keysInMemory ?? KEYS_IN_MEMORY);
    if (typeof master === 'function') this.masterSource = master;
    else this.master = master;
  }

  private readonly masterSource?: () => Promise<MasterKey>;

  /** Persons whose key (or tombstone) is held in memory now. */
  get personsInMemory(): number {
    return this.cache.size;
  }

  /** The master key, resolved once. */
  async ready(): Promise<MasterKey> {
    if (this.master) return this.master;
    this.resolving ??= (this.masterSource as () => Promise<MasterKey>)().catch((err: unknown) => {
      this.resolving = undefined;
      throw err;
    });
    this.master = await this.resolving;
    return this.master;
  }

  /** The key to seal with, created when the person has none. */
  async keyForSealing(personId: string): Promise<Buffer> {
    const master = await this.ready();
    // Not in memory: a new person (a known one's key was loaded when their stream was read, or
    // was dropped from memory since), so no look-up first; the batch's insert-if-absent finds a
    // key or tombstone that is there.
    const found = this.cache.get(personId) ?? (await this.create(personId, master));
    if (found.state !== 'live') throw new PersonErasedError(personId);
    return found.key;
  }

  /** Joins this turn's batch of new keys (the same key for a person asked for twice in it). */
  private async create(personId: string, master: MasterKey): Promise<KeyLookup> {
    if (!this.creating || !this.created) {
      const batch = new Map<string, NewKey>();
      this.creating = batch;
      this.created = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.creating = undefined;
        return this.write(batch);
      });
    }
    if (!this.creating.has(personId)) {
      const key = newDataKey();
      this.creating.set(personId, { key, row: { personId, wrapped: wrapKey(master.key, personId, key), masterId: master.id } });
    }
    return (await this.created).get(personId) as KeyLookup;
  }

  private async write(batch: ReadonlyMap<string, NewKey>): Promise<ReadonlyMap<string, KeyLookup>> {
    const rows = [...batch.values()].map((n) => n.row);
    const stored = this.keyTable.insertManyIfAbsent ? await this.keyTable.insertManyIfAbsent(rows) : await Promise.all(rows.map((r) => this.keyTable.insertIfAbsent(r)));
    const out = new Map<string, KeyLookup>();
    for (const row of stored) {
      const mine = batch.get(row.personId) as NewKey;
      if (this.cache.get(row.personId)?.state === 'erased') out.set(row.personId, { state: 'erased' }); // erased while the batch was written
      else if (row.wrapped !== null && row.wrapped.equals(mine.row.wrapped as Buffer)) {
        // Ours: the key is at hand, no need to unwrap what was just wrapped.
        const found: KeyLookup = { state: 'live', key: mine.key };
        this.cache.set(row.personId, found);
        out.set(row.personId, found);
      } else out.set(row.personId, this.remember(row)); // another writer's key, or a tombstone
    }
    return out;
  }

  /** Loads these persons' keys (or tombstones) so that synchronous opens find them. */
  async load(personIds: Iterable<string>): Promise<void> {
    await this.ready();
    const missing = [...new Set(personIds)].filter((id) => !this.cache.has(id));
    if (missing.length === 0) return;
    for (const row of await this.keyTable.getMany(missing)) this.remember(row);
  }

  /** What is known of a person now, synchronously (memory, or the SQLite table). */
  peek(personId: string): KeyLookup {
    const cached = this.cache.get(personId);
    if (cached || !this.master) return cached ?? { state: 'none' };
    const row = this.keyTable.getSync?.(personId);
    return row ? this.remember(row) : { state: 'none' };
  }

  /** Destroys the person's key; true when there was one to destroy. */
  async erase(personId: string): Promise<boolean> {
    const master = await this.ready();
    this.cache.set(personId, { state: 'erased' });
    let destroyed = await this.keyTable.tombstone(personId);
    if (!destroyed) {
      // Never sealed anything: the tombstone still keeps a later write from creating a key. A
      // key written meanwhile (a batch in flight on a remote table) is found here and destroyed.
      const row = await this.keyTable.insertIfAbsent({ personId, wrapped: null, masterId: master.id });
      if (row.wrapped !== null) destroyed = await this.keyTable.tombstone(personId);
    }
    return destroyed;
  }

  /** Another instance erased this person: forget the key held in memory. */
  forget(personId: string): void {
    this.cache.delete(personId);
  }

  /** Master key rotation: rewraps every data key still wrapped by the previous master. The log is untouched. */
  async rewrapFromPrevious(): Promise<number> {
    if (!this.previous) return 0;
    const master = await this.ready();
    let n = 0;
    for (const row of await this.keyTable.wrappedUnderOther(master.id)) {
      if (row.masterId !== this.previous.id || !row.wrapped) continue;
      const key = unwrapKey(this.previous.key, row.personId, row.wrapped);
      await this.keyTable.rewrap(row.personId, wrapKey(master.key, row.personId, key), master.id);
      this.cache.delete(row.personId);
      n++;
    }
    return n;
  }

  close(): Promise<void> {
    return this.keyTable.close();
  }

  /** Nest's shutdown hook: a shared key table's connections close with the server. */
  async onApplicationShutdown(): Promise<void> {
    if (this.keyTable.shared) await this.keyTable.close();
  }

  private remember(row: KeyRow): KeyLookup {
    let found: KeyLookup;
    if (!row.wrapped) found = { state: 'erased' };
    else {
      const master = row.masterId === this.master?.id ? this.master : row.masterId === this.previous?.id ? this.previous : undefined;
      if (!master) throw new Error(`the data key of ${row.personId} is wrapped by master key ${row.masterId}, which is not configured (DATA_KEY_MASTER_PREVIOUS?)`);
      found = { state: 'live', key: unwrapKey(master.key, row.personId, row.wrapped) };
    }
    this.cache.set(row.personId, found);
    return found;
  }
}
