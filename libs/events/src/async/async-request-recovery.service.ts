import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, type EventStore, LEADER_LEASE, type LeaderLease, type RecordedEvent } from '@app/event-store';
import { ASYNC_REQUEST_STREAM_PREFIX, type AsyncRequestAccepted, AsyncRequestEventTypes } from '../async-request.events';
import { AsyncRequestRunner } from './async-request-runner.service';

const PAGE = 500;
/** Positions a subscription scans between two turns of the event loop. */
const WINDOW = 2000;
const ASYNC_EVENT_TYPES = [AsyncRequestEventTypes.accepted, AsyncRequestEventTypes.completed];

/** The embedded store reads synchronously: other requests get their turn between pages. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Pending {
  readonly request: AsyncRequestAccepted;
  readonly acceptedAt: Date;
  readonly position: bigint;
}

/**
 * Completes accepted requests that nobody is running: the process that accepted them died
 * after its 202 (RFC 9967 §2.5 promises completion), or their run failed (store away). One
 * instance at a time (a lease, as audit checkpoints), oldest first. A request is another
 * live instance's business for a grace period; on the embedded store one process owns the
 * file, so whatever this process is not running is an orphan. A request whose write committed
 * before the crash is not run again: its outcome is read from what it wrote (a Bulk's committed
 * creates too; the executor decides how). The first recorded outcome stands.
 */
@Injectable()
export class AsyncRequestRecovery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('async-requests');
  private readonly pending = new Map<string, Pending>();
  private scannedUpTo = -1n;
  private timer?: NodeJS.Timeout;
  private readonly graceMs = Number(process.env.ASYNC_REQUEST_ORPHAN_AFTER_MS ?? 120_000);

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEADER_LEASE) private readonly lease: LeaderLease,
    private readonly runner: AsyncRequestRunner,
  ) {}

  onApplicationBootstrap(): void {
    const every = Number(process.env.ASYNC_REQUEST_RECOVERY_INTERVAL_MS ?? 5_000);
    if (every > 0) {
      this.timer = setInterval(() => void this.round().catch((e: Error) => this.logger.warn(`recovery round failed: ${e.message}`)), every);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One round: the number of orphaned requests it ran. */
  async round(): Promise<number> {
    const r = await this.lease.runExclusive('async-request-recovery', () => this.recover());
    return r.ran ? r.value : 0;
  }

  private async recover(): Promise<number> {
    await this.scan();
    const now = Date.now();
    const orphans = [...this.pending.values()].filter(
      (p) =>
        !this.runner.isRunning(p.request.txn) &&
        (this.store.name === 'sqlite' || p.request.acceptedBy === this.runner.instanceId || now - p.acceptedAt.getTime() > this.graceMs),
    );
    let ran = 0;
    for (const { request, position } of orphans) {
      try {
        if (await this.runner.run(request, await this.committedEvents(request.txn, position))) ran++;
      } catch (err) {
        this.logger.warn(`asynchronous request ${request.txn} still pending: ${(err as Error).message}`);
      }
    }
    return ran;
  }

  /**
   * The events the request's run already wrote (they carry its txn as correlation id): its
   * process may have died between the write and the completion. They follow the acceptance.
   */
  private async committedEvents(txn: string, acceptedAt: bigint): Promise<RecordedEvent[]> {
    const found: RecordedEvent[] = [];
    for (let from = acceptedAt + 1n; ; ) {
      const batch = await this.store.readAll({ fromPosition: from, maxCount: PAGE });
      for (const e of batch) {
        if (e.metadata.$correlationId === txn && !e.streamId.startsWith(ASYNC_REQUEST_STREAM_PREFIX)) found.push(e);
      }
      if (batch.length < PAGE) return found;
      from = batch[batch.length - 1]!.position + 1n;
      await yieldToEventLoop();
    }
  }

  /**
   * Follows the async-request streams from where the last round stopped, to the head as it
   * stands. Through a subscription, not `readAll` by position: the port makes subscriptions
   * commit-order safe on every adapter (an acceptance that commits late with a smaller position
   * than one already seen is still delivered), a plain read promises nothing of the kind.
   */
  private async scan(): Promise<void> {
    // Fails fast while the store is away (the round fails, the next one tries again); a
    // subscription would wait for it instead. Nothing appended since the last round: no read.
    if ((await this.store.headPosition()) <= this.scannedUpTo) return;
    // By event type: a stream-prefix filter would test every event's stream id in the store.
    const subscription = this.store.subscribeToAll({
      ...(this.scannedUpTo >= 0n ? { fromPosition: this.scannedUpTo } : {}),
      filter: { eventTypes: ASYNC_EVENT_TYPES },
      checkpointInterval: WINDOW,
    });
    try {
      for await (const message of subscription) {
        if (message.kind === 'event') {
          const e = message.event;
          const txn = (e.data as { txn?: unknown }).txn;
          if (typeof txn === 'string' && e.streamId.startsWith(ASYNC_REQUEST_STREAM_PREFIX)) {
            if (e.type === AsyncRequestEventTypes.accepted) this.pending.set(txn, { request: e.data as unknown as AsyncRequestAccepted, acceptedAt: e.recordedAt, position: e.position });
            else if (e.type === AsyncRequestEventTypes.completed) this.pending.delete(txn);
          }
          this.scannedUpTo = e.position;
          continue;
        }
        if (message.position > this.scannedUpTo) this.scannedUpTo = message.position;
        if (message.kind === 'caught-up') return;
        // A window of the log was scanned: other requests get their turn before the next one.
        await yieldToEventLoop();
      }
    } finally {
      await subscription.unsubscribe();
    }
  }
}
