/**
 * The only file that imports the EventStoreDB client, so that moving to
 * `@kurrent/kurrentdb-client` (same API, new package name) touches one file.
 */
export {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
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
  UnavailableError as EsdbUnavailableError,
  DeadlineExceededError as EsdbDeadlineExceededError,
  NotLeaderError as EsdbNotLeaderError,
  CancelledError as EsdbCancelledError,
  TimeoutError as EsdbTimeoutError,
} from '@eventstore/db-client';
export type { AllStreamResolvedEvent, AllStreamSubscription, Filter, Position, ResolvedEvent } from '@eventstore/db-client';
