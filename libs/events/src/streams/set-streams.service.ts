import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type RecordedEvent, StreamNotFoundError, WrongExpectedRevisionError } from '@app/event-store';
import { CLOCK, type Clock, type CommandContext, eventMetadata, ResourceNotFound, type ScopeId } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { type DeliveryProgress, deliveryProgressOf, type StreamView, streamViewOf } from '../delivery/delivery.state';
import type { ScimEventsHandle } from '../sets/scim-events.projection';
import { decide, type StreamCommand } from './stream.decider';
import { deliveryEvents, type DeliveryEvent, setDeliveryStreamId, setStreamId, streamEvents } from './stream.events';

type CommandBody<C> = C extends StreamCommand ? Omit<C, 'now'> : never;

/**
 * The stream aggregate's command side (load → decide → append at the revision read, again on
 * a concurrent write) and its reads. Stream events carry the request's metadata, so each change
 * is an audit event with its actor.
 */
@Injectable()
export class SetStreams {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  feed(): ScimEventsHandle {
    return this.runner.handle<ScimEventsHandle>('scim-events');
  }

  async load(streamId: string): Promise<StreamView> {
    return streamViewOf(await this.read(setStreamId(streamId)));
  }

  /** The stream of `scope` named `streamId`, or ResourceNotFound (another scope's too). */
  async get(scope: string, streamId: string): Promise<StreamView> {
    const view = await this.load(streamId);
    if (!view.state.exists || view.state.deleted || view.state.scope !== scope) throw new ResourceNotFound('Stream', streamId);
    return view;
  }

  async list(scope: string): Promise<StreamView[]> {
    await this.ryw.settle();
    const ids = this.feed().streams(scope).map((s) => s.id);
    const views = await Promise.all(ids.map((id) => this.load(id)));
    return views.filter((v) => v.state.exists && !v.state.deleted);
  }

  /**
   * Delivery progress, read backwards to the last `SetsSettled` (which carries what it needs of
   * the events before it): one event per pushed SET must not make every round read them all.
   */
  async progress(streamId: string): Promise<DeliveryProgress> {
    const stream = setDeliveryStreamId(streamId);
    const tail: RecordedEvent[] = [];
    let from: bigint | undefined;
    for (;;) {
      let page: RecordedEvent[];
      try {
        page = await this.store.readStream(stream, { direction: 'backwards', maxCount: 100, ...(from !== undefined ? { fromRevision: from } : {}) });
      } catch (err) {
        if (err instanceof StreamNotFoundError) break;
        throw err;
      }
      tail.push(...page);
      const last = page.at(-1);
      if (page.length < 100 || !last || last.revision === 0n || page.some((e) => e.type === 'SetsSettled')) break;
      from = last.revision - 1n;
    }
    const head = tail[0]?.revision ?? -1n;
    const settledAt = tail.findIndex((e) => e.type === 'SetsSettled');
    const recorded = (settledAt >= 0 ? tail.slice(0, settledAt + 1) : tail).reverse();
    return { ...deliveryProgressOf(streamId, recorded), revision: head };
  }

  async run(command: CommandBody<StreamCommand>, ctx: CommandContext): Promise<StreamView> {
    for (let attempt = 0; ; attempt++) {
      const view = await this.load(command.streamId);
      const now = this.clock.now().toISOString();
      const events = decide({ ...command, now } as StreamCommand, view.state);
      if (events.length === 0) return view;
      const metadata = eventMetadata(ctx, command.scope as ScopeId, now);
      try {
        const r = await this.store.append(
          setStreamId(command.streamId),
          events.map((e) => streamEvents.encode(e, metadata, randomUUID())),
          view.revision < 0n ? 'no_stream' : view.revision,
        );
        this.ryw.wrote(r.position);
        return await this.load(command.streamId);
      } catch (err) {
        if (!(err instanceof WrongExpectedRevisionError) || attempt >= 5) throw err;
      }
    }
  }

  /** Appends delivery progress (not an audit fact: its own stream, excluded from the audit log). */
  async recordProgress(streamId: string, event: DeliveryEvent): Promise<void> {
    const now = this.clock.now().toISOString();
    const r = await this.store.append(
      setDeliveryStreamId(streamId),
      [deliveryEvents.encode({ ...event, occurredAt: now }, { occurredAt: now }, randomUUID())],
      'any',
    );
    this.ryw.wrote(r.position);
  }

  private async read(stream: string): Promise<RecordedEvent[]> {
    try {
      return await this.store.readStream(stream);
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
  }
}
