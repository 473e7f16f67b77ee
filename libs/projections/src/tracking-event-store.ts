import type { AppendResult, EventData, EventStore, ExpectedRevision, StreamAppend } from '@app/event-store';

/**
 * Reports the commit position of every append this process makes, so read-your-writes
 * knows what the read models must include before a query answers. One wrapper instead of
 * every handler remembering to report.
 */
export function trackWrites(store: EventStore, wrote: (position: bigint) => void): EventStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'append') {
        return async (streamId: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> => {
          const r = await target.append(streamId, events, expected);
          wrote(r.position);
          return r;
        };
      }
      if (prop === 'appendMulti') {
        return async (appends: readonly StreamAppend[]): Promise<AppendResult> => {
          const r = await target.appendMulti(appends);
          wrote(r.position);
          return r;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
