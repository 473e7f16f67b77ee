/**
 * The only file that imports the EventStoreDB client, so that moving to
 * `@kurrent/kurrentdb-client` (same API, new package name) touches this file alone.
 */
import {
  EventStoreDBClient,
  type AllStreamResolvedEvent,
  type Direction,
  type Filter,
  type Position,
  type StreamingRead,
} from '@eventstore/db-client';
// Deep imports (the package has no "exports" map): the generated protocol classes and the
// client's own read stream, needed for the filtered $all read below. They must be the very
// modules the client loads itself, or its serializer rejects the request.
import { Empty } from '@eventstore/db-client/generated/shared_pb';
import { StreamsClient } from '@eventstore/db-client/generated/streams_grpc_pb';
import { ReadReq } from '@eventstore/db-client/generated/streams_pb';
import { ReadStream } from '@eventstore/db-client/dist/streams/utils/ReadStream';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils';

export {
  ANY,
  BACKWARDS,
  END,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  StreamNotFoundError as EsdbStreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  MaxAppendSizeExceededError as EsdbMaxAppendSizeExceededError,
  StreamDeletedError as EsdbStreamDeletedError,
  AccessDeniedError as EsdbAccessDeniedError,
  UnknownError as EsdbUnknownError,
  isCommandError,
  UnavailableError as EsdbUnavailableError,
  DeadlineExceededError as EsdbDeadlineExceededError,
  NotLeaderError as EsdbNotLeaderError,
  CancelledError as EsdbCancelledError,
  TimeoutError as EsdbTimeoutError,
} from '@eventstore/db-client';
export type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  Filter,
  Position,
  ResolvedEvent,
  StreamingRead,
} from '@eventstore/db-client';
export { EventStoreDBClient };

/**
 * The part of the client the adapter uses, so that unit tests can stand in a fake that
 * behaves like the client (including its failures) where no server can run.
 */
export interface EsdbClient {
  appendToStream: EventStoreDBClient['appendToStream'];
  readStream: EventStoreDBClient['readStream'];
  subscribeToAll: EventStoreDBClient['subscribeToAll'];
  readAllFiltered(options: FilteredReadAllOptions): StreamingRead<AllStreamResolvedEvent>;
  dispose(): Promise<void>;
}

/** The schemes `EventStoreDBClient.connectionString` accepts (6.x); `kurrentdb://` is not one. */
export const CONNECTION_STRING_SCHEMES = ['esdb://', 'esdb+discover://'] as const;

export function connect(connectionString: string): EsdbClient {
  const client = EventStoreDBClient.connectionString(connectionString);
  return {
    appendToStream: client.appendToStream.bind(client),
    readStream: client.readStream.bind(client),
    subscribeToAll: client.subscribeToAll.bind(client),
    readAllFiltered: (options) => readAllFiltered(client, options),
    dispose: () => client.dispose(),
  };
}

export interface FilteredReadAllOptions {
  readonly fromPosition: 'start' | 'end' | Position;
  readonly direction: Direction;
  readonly maxCount: number;
  /** Built with `streamNameFilter` / `eventTypeFilter` / `excludeSystemEvents`. */
  readonly filter: Filter;
}

/** The two protected members of the client a filtered read goes through. */
interface ClientInternals {
  GRPCStreamCreator(
    client: typeof StreamsClient,
    debugName: string,
    creator: (client: StreamsClient) => ReturnType<StreamsClient['read']>,
  ): () => Promise<ReturnType<StreamsClient['read']>>;
  callArguments(
    base: object,
    callOptions: { deadline: number },
  ): [Parameters<StreamsClient['read']>[1], Parameters<StreamsClient['read']>[2]];
}

/**
 * `readAll` with a server-side filter. Client 6.x only offers filters on subscriptions although
 * the server's Read call accepts them on $all reads too (20.6+); without this, a filtered read
 * would ship the whole log to us. The request is built exactly as the client builds its
 * filtered `subscribeToAll`, minus the subscription and plus count and direction.
 */
export function readAllFiltered(
  client: EventStoreDBClient,
  options: FilteredReadAllOptions,
): StreamingRead<AllStreamResolvedEvent> {
  const internals = client as unknown as Partial<ClientInternals>;
  if (typeof internals.GRPCStreamCreator !== 'function' || typeof internals.callArguments !== 'function') {
    throw new Error(
      'This @eventstore/db-client version no longer exposes GRPCStreamCreator/callArguments: revisit readAllFiltered',
    );
  }
  const request = buildFilteredReadAllRequest(options);
  const createStream = internals.GRPCStreamCreator.call(client, StreamsClient, 'readAllFiltered', (grpc) =>
    // The whole read is bounded by the caller's own deadline, as for the client's readAll.
    grpc.read(request, ...internals.callArguments!.call(client, {}, { deadline: Infinity })),
  );
  return new ReadStream(createStream, convertGrpcEvent, {}) as StreamingRead<AllStreamResolvedEvent>;
}

/** Exported for a unit test of the request's shape (no server needed). */
export function buildFilteredReadAllRequest({
  fromPosition,
  direction,
  maxCount,
  filter,
}: FilteredReadAllOptions): ReadReq {
  const options = new ReadReq.Options();
  const all = new ReadReq.Options.AllOptions();
  if (fromPosition === 'start') all.setStart(new Empty());
  else if (fromPosition === 'end') all.setEnd(new Empty());
  else {
    const position = new ReadReq.Options.Position();
    position.setCommitPosition(fromPosition.commit.toString(10));
    position.setPreparePosition(fromPosition.prepare.toString(10));
    all.setPosition(position);
  }
  options.setAll(all);
  options.setReadDirection(
    direction === 'backwards'
      ? ReadReq.Options.ReadDirection.BACKWARDS
      : ReadReq.Options.ReadDirection.FORWARDS,
  );
  options.setResolveLinks(false);
  options.setCount(String(maxCount));
  const uuid = new ReadReq.Options.UUIDOption();
  uuid.setString(new Empty());
  options.setUuidOption(uuid);

  const expression = new ReadReq.Options.FilterOptions.Expression();
  if ('prefixes' in filter) expression.setPrefixList(filter.prefixes);
  if ('regex' in filter) expression.setRegex(filter.regex);
  const filterOptions = new ReadReq.Options.FilterOptions();
  if (filter.filterOn === 'streamName') filterOptions.setStreamIdentifier(expression);
  else filterOptions.setEventType(expression);
  if (typeof filter.maxSearchWindow === 'number') filterOptions.setMax(filter.maxSearchWindow);
  else filterOptions.setCount(new Empty());
  filterOptions.setCheckpointintervalmultiplier(Math.max(1, filter.checkpointInterval));
  options.setFilter(filterOptions);

  const request = new ReadReq();
  request.setOptions(options);
  return request;
}
