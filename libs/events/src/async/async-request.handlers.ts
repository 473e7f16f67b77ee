import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler, type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, type JsonObject, type RecordedEvent, StreamNotFoundError, WrongExpectedRevisionError } from '@app/event-store';
import { CLOCK, type Clock, type CommandContext, eventMetadata, type ScopeId } from '@app/identity';
import { type AsyncOperationOutcome, type AsyncRequestAccepted, asyncRequestStreamId } from '../async-request.events';
import { type AsyncRequestCommand, type AsyncRequestEvent, asyncRequestDecider, type AsyncRequestState } from './async-request.decider';

/** Durably accepts an asynchronous request: once this returns, the request will be run. */
export class AcceptAsyncRequestCommand {
  constructor(
    readonly request: AsyncRequestAccepted,
    readonly context: CommandContext,
  ) {}
}

/** Records the outcome of an accepted request (the first outcome recorded stands). */
export class CompleteAsyncRequestCommand {
  constructor(
    readonly txn: string,
    readonly operations: readonly AsyncOperationOutcome[],
    readonly context: CommandContext,
  ) {}
}

/** The request's state: unknown, pending (accepted, not yet completed) or completed. */
export class GetAsyncRequestQuery {
  constructor(readonly txn: string) {}
}

/** Async requests live in a stream each: load → decide → append at the revision loaded, again on a conflict. */
async function load(store: EventStore, txn: string): Promise<{ state: AsyncRequestState; revision: bigint | undefined }> {
  let recorded: RecordedEvent[] = [];
  try {
    recorded = await store.readStream(asyncRequestStreamId(txn));
  } catch (err) {
    if (!(err instanceof StreamNotFoundError)) throw err;
  }
  const state = recorded.map(toEvent).reduce(asyncRequestDecider.evolve, asyncRequestDecider.initialState());
  return { state, revision: recorded.at(-1)?.revision };
}

export function toEvent(e: RecordedEvent): AsyncRequestEvent {
  return { type: e.type, data: e.data } as unknown as AsyncRequestEvent;
}

async function run(store: EventStore, clock: Clock, txn: string, command: AsyncRequestCommand, context: CommandContext): Promise<AsyncRequestState> {
  for (let attempt = 0; ; attempt++) {
    const { state, revision } = await load(store, txn);
    const events = asyncRequestDecider.decide(command, state);
    if (events.length === 0) return state;
    const scope = state.status === 'unknown' ? (command.type === 'AcceptAsyncRequest' ? command.request.scope : 'instance') : state.request.scope;
    const metadata = eventMetadata(context, scope as ScopeId, clock.now().toISOString());
    try {
      await store.append(
        asyncRequestStreamId(txn),
        events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data as unknown as JsonObject, metadata })),
        revision === undefined ? 'no_stream' : revision,
      );
      return events.reduce(asyncRequestDecider.evolve, state);
    } catch (err) {
      // Another instance (a recovery racing the live run) wrote first: decide again on what it wrote.
      if (!(err instanceof WrongExpectedRevisionError) || attempt >= 3) throw err;
    }
  }
}

@CommandHandler(AcceptAsyncRequestCommand)
export class AcceptAsyncRequestHandler implements ICommandHandler<AcceptAsyncRequestCommand, AsyncRequestState> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(c: AcceptAsyncRequestCommand): Promise<AsyncRequestState> {
    return run(this.store, this.clock, c.request.txn, { type: 'AcceptAsyncRequest', request: c.request }, c.context);
  }
}

@CommandHandler(CompleteAsyncRequestCommand)
export class CompleteAsyncRequestHandler implements ICommandHandler<CompleteAsyncRequestCommand, AsyncRequestState> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(c: CompleteAsyncRequestCommand): Promise<AsyncRequestState> {
    return run(this.store, this.clock, c.txn, { type: 'CompleteAsyncRequest', txn: c.txn, operations: c.operations }, c.context);
  }
}

@QueryHandler(GetAsyncRequestQuery)
export class GetAsyncRequestHandler implements IQueryHandler<GetAsyncRequestQuery, AsyncRequestState> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(q: GetAsyncRequestQuery): Promise<AsyncRequestState> {
    return (await load(this.store, q.txn)).state;
  }
}

export const ASYNC_REQUEST_HANDLERS = [AcceptAsyncRequestHandler, CompleteAsyncRequestHandler, GetAsyncRequestHandler];
