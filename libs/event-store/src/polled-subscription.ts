import { StoreUnavailableError } from './errors';
import type { EventFilter, RecordedEvent, SubscribeOptions, Subscription, SubscriptionMessage } from './event-store.port';

const DEFAULT_CHECKPOINT_INTERVAL = 1000;
/** Events an unfiltered read asks for at once. */
export const SUBSCRIPTION_PAGE = 1000;

/** Set by a waiting subscription; calling it ends the wait at once (an unsubscribe). */
export interface WakeSignal {
  wake?: () => void;
}

/** One read of a polled log. */
export interface LogPage {
  readonly events: readonly RecordedEvent[];
  /** Every event up to here was scanned, filtered-out ones included. */
  readonly upTo: bigint;
  /** The read reached the end of the log as it stood: the subscription waits for an append next. */
  readonly atHead: boolean;
}

/**
 * The next window of positions after `position`, up to `head`: a read bounded by positions, not
 * by a count, so a filtered subscription checkpoints while no event of the window matches.
 */
export async function readWindow(
  position: bigint,
  window: bigint,
  head: bigint,
  read: (after: bigint, upTo: bigint) => RecordedEvent[] | Promise<RecordedEvent[]>,
): Promise<LogPage> {
  if (position >= head) return { events: [], upTo: position, atHead: true };
  const upTo = position + window < head ? position + window : head;
  return { events: await read(position, upTo), upTo, atHead: false };
}

/** What a store whose log is a table it reads by position gives the shared subscription loop. */
export interface PolledLog {
  isClosed(): boolean;
  /** Reads after `position`; with a filter, the events of the next `window` positions at most. */
  readPage(position: bigint, window: bigint, filter: EventFilter | undefined): Promise<LogPage>;
  /** Resolves on the next append, on `wake`, on close, or after the store's own timeout. */
  waitForAppend(signal: WakeSignal): Promise<void>;
  /** Ends a pending `waitForAppend` or `pause` at once. */
  wake(signal: WakeSignal): void;
  /**
   * Where the store can be away (a server): sleeps, unless woken, before the failed read is
   * tried again. Without it a `StoreUnavailableError` ends the subscription.
   */
  pause?(ms: number, signal: WakeSignal): Promise<void>;
}

/**
 * `subscribeToAll` over a polled log: the SQLite and PostgreSQL stores share this loop (and its
 * exclusive start, checkpoints while filtered-out events pass, caught-up once, resume after an
 * outage) and differ only in how they read a page and wait for an append.
 */
export function subscribePolled(log: PolledLog, options: SubscribeOptions): Subscription {
  const interval = options.checkpointInterval;
  // A window of 0 would never advance: the subscription would spin forever.
  if (interval !== undefined && !(Number.isInteger(interval) && interval >= 1)) {
    throw new RangeError(`checkpointInterval must be a positive integer, got ${interval}`);
  }
  return new PolledSubscription(log, options);
}

class PolledSubscription implements Subscription {
  private stopped = false;
  private readonly signal: WakeSignal = {};

  constructor(
    private readonly log: PolledLog,
    private readonly options: SubscribeOptions,
  ) {}

  async unsubscribe(): Promise<void> {
    this.stopped = true;
    this.log.wake(this.signal);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    const { filter } = this.options;
    const window = BigInt(filter ? (this.options.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL) : SUBSCRIPTION_PAGE);
    // The last position delivered (or scanned): after an outage the subscription resumes here.
    let position = this.options.fromPosition ?? -1n;
    let caughtUp = false;
    let backoff = 50;
    while (!this.stopped && !this.log.isClosed()) {
      let page: LogPage;
      try {
        page = await this.log.readPage(position, window, filter);
        backoff = 50;
      } catch (err) {
        if (!this.log.pause || !(err instanceof StoreUnavailableError) || this.log.isClosed()) throw err;
        // The store is away: try again from the same position; nothing was delivered twice
        // or skipped, because nothing from the failed read was delivered at all.
        await this.log.pause(backoff, this.signal);
        backoff = Math.min(backoff * 2, 2000);
        continue;
      }
      for (const event of page.events) {
        if (this.stopped) return;
        yield { kind: 'event', event };
      }
      position = page.upTo;
      // The consumer may have unsubscribed while it handled the last event.
      if (this.stopped) return;
      if (!page.atHead) {
        if (filter && page.events.length < Number(window)) yield { kind: 'checkpoint', position };
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        yield { kind: 'caught-up', position };
        continue;
      }
      await this.log.waitForAppend(this.signal);
    }
  }
}
