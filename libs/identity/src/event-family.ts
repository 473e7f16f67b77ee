import type { EventData, JsonObject, RecordedEvent } from '@app/event-store';

/** An event of a family as deciders see it: what happened, and when. */
export type Occurred<E extends { readonly type: string; readonly data: object }> = E & { readonly occurredAt: string };

/**
 * One typed decoder and encoder per event family. Deciders emit `{ type, data, occurredAt }`
 * (the time comes in with the command); the log keeps `occurredAt` in the metadata, so the
 * stored payload is exactly `data`. Reading back, `decode` is the only place a stored event
 * becomes a domain event: a type the family does not know is `undefined` (another family's
 * event on the same stream, or one a newer version wrote), never a cast.
 */
export interface EventFamily<E extends { readonly type: string; readonly data: object }> {
  readonly types: ReadonlySet<string>;
  decode(recorded: RecordedEvent): Occurred<E> | undefined;
  /** The events of the family in `recorded`, in order, skipping the others. */
  decodeAll(recorded: readonly RecordedEvent[]): Occurred<E>[];
  encode(event: Occurred<E>, metadata: JsonObject, id: string): EventData;
}

export function eventFamily<E extends { readonly type: string; readonly data: object }>(
  types: readonly E['type'][],
): EventFamily<E> {
  const known = new Set<string>(types);
  const decode = (recorded: RecordedEvent): Occurred<E> | undefined =>
    known.has(recorded.type)
      ? ({ type: recorded.type, data: recorded.data, occurredAt: occurredAtOf(recorded) } as unknown as Occurred<E>)
      : undefined;
  return {
    types: known,
    decode,
    decodeAll(recorded) {
      const events: Occurred<E>[] = [];
      for (const r of recorded) {
        const e = decode(r);
        if (e) events.push(e);
      }
      return events;
    },
    encode(event, metadata, id) {
      return { id, type: event.type, data: event.data as unknown as JsonObject, metadata: { ...metadata, occurredAt: event.occurredAt } };
    },
  };
}

/** When an event happened: as its command said, or (events written before that was recorded) when it was stored. */
export function occurredAtOf(e: RecordedEvent): string {
  const at = e.metadata.occurredAt;
  return typeof at === 'string' ? at : e.recordedAt.toISOString();
}
