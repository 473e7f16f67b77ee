import { type EventStore, type RecordedEvent, StreamNotFoundError } from '@app/event-store';
import { foldEvents } from '@app/decider';
import { evolve } from './account.evolve';
import { type AccountState, initialState } from './account.state';
import { accountEvents, accountStream } from './events';
import { occurredAtOf } from './event-family';

export interface LoadedAccount {
  readonly state: AccountState;
  /** Stream revision the state was folded up to; -1n when the stream does not exist. */
  readonly revision: bigint;
}

// Folded states of the most recently written or read accounts. Each is a few KB; a miss costs
// one stream read and fold, so the cache is sized for memory, not for the whole population.
const CACHE_LIMIT = 2_000;

/**
 * Loads accounts by folding their stream with the decider's `evolve`. Folded states are
 * cached, and a load only reads the events after the cached revision, so another
 * instance's writes are always seen while a hot account costs one small read.
 */
export class AccountRepository {
  private readonly cache = new Map<string, LoadedAccount>();

  constructor(private readonly store: EventStore) {}

  async load(accountId: string): Promise<LoadedAccount> {
    const cached = this.cache.get(accountId);
    let loaded = cached ?? { state: initialState(), revision: -1n };
    let events: RecordedEvent[];
    try {
      events = await this.store.readStream(accountStream(accountId), { fromRevision: loaded.revision + 1n });
    } catch (err) {
      if (err instanceof StreamNotFoundError) return loaded;
      throw err;
    }
    if (events.length > 0) {
      loaded = { state: foldAccount(events, loaded.state), revision: events[events.length - 1].revision };
    }
    this.remember(accountId, loaded);
    return loaded;
  }

  remember(accountId: string, loaded: LoadedAccount): void {
    this.cache.delete(accountId);
    this.cache.set(accountId, loaded);
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
  }

  forget(accountId: string): void {
    this.cache.delete(accountId);
  }
}

/** The account state after `events` of its stream (from `from`, a cached fold), decoded by the account family. */
export function foldAccount(events: readonly RecordedEvent[], from: AccountState = initialState()): AccountState {
  return foldEvents(evolve, accountEvents.decodeAll(events), from);
}

// Kept for the projections that still import it from here; event-family.ts is its home.
export { occurredAtOf };
