import type { EventData, JsonObject, JsonValue, RecordedEvent } from '@app/event-store';
import { ERASED, isSealed, openValue, SEALED_PREFIX, sealValue } from './data-key.cipher';
import type { DataKeyStore } from './data-key-store';
import { RecentMap } from './recent-map';
import { ASYNC_REQUEST_COMPLETED, ASYNC_REQUEST_STREAM_PREFIX, classOf, personOfStream } from './personal-fields';

/**
 * What opening found: `live` (plaintext, or nothing was sealed), `erased` (the person's key is
 * destroyed: values read `[erased]`), `unknown` (sealed, and this process has not loaded the
 * key: only a caller that skipped `DataKeyStore.load` sees it).
 */
export type OpenState = 'live' | 'erased' | 'unknown';
export interface Opened {
  readonly event: RecordedEvent;
  readonly state: OpenState;
}

// The sealed value's JSON type, kept in the clear so an erased value keeps its shape for the
// code that folds it (an erased attribute document is `{}`, not a string).
const TYPE_TAGS = { s: ERASED, o: {}, a: [], j: null } as const;
type TypeTag = keyof typeof TYPE_TAGS;
const tagOf = (v: unknown): TypeTag => (typeof v === 'string' ? 's' : Array.isArray(v) ? 'a' : v !== null && typeof v === 'object' ? 'o' : 'j');

/** Opened events remembered by id (a few MB at most). */
const RECENT_OPENS = 20_000;

/**
 * Seals a person's personal fields with their data key (append) and opens them (read): each
 * personal value is replaced by a marker (`pii:v1:s`, its JSON type) and the values go into one
 * AES-256-GCM blob per event (`$pii`). The event keeps its shape, its ids and its clear fields,
 * so the audit chain, filters and exports work on the stored form. `personal-fields.ts` says
 * which fields are personal.
 */
export class PersonalDataSealer {
  private readonly opened = new WeakMap<RecordedEvent, Opened>();
  // Plaintext of the last events sealed or opened, by event id: the read models apply what was
  // just sealed without decrypting it, and a rebuild (each projection its own read of the log)
  // decrypts an event once. Bounded, and purged of a person on their erasure.
  private readonly recent = new RecentMap<{ readonly streamId: string; readonly data: JsonObject }>(RECENT_OPENS);

  constructor(readonly keys: DataKeyStore) {}

  /** The events as they are to be stored. Throws `PersonErasedError` for an erased person. */
  async seal(streamId: string, events: readonly EventData[]): Promise<readonly EventData[]> {
    const person = personOfStream(streamId);
    if (person === undefined) return events;
    let key: Buffer | undefined;
    const out: EventData[] = [];
    for (const e of events) {
      // Each personal value becomes a marker naming its JSON type; the values go into one
      // sealed blob per event (one cipher initialisation per event, not one per field).
      const data: Record<string, JsonValue> = {};
      const values: Record<string, JsonValue> = {};
      const mark = (path: string, value: JsonValue): string => {
        values[path] = value;
        return `${SEALED_PREFIX}${tagOf(value)}`;
      };
      for (const [field, value] of Object.entries(e.data)) {
        const cls = classOf(e.type, field);
        if (cls === 'clear' || value === undefined || isSealed(value)) data[field] = value;
        else if (cls === 'personal' || !Array.isArray(value)) data[field] = mark(field, value);
        else {
          data[field] = value.map((el, i) => {
            if (el === null || typeof el !== 'object' || Array.isArray(el)) return mark(`${field}[${i}]`, el);
            const copy: Record<string, JsonValue> = { ...el };
            for (const k of cls.each) if (copy[k] !== undefined) copy[k] = mark(`${field}[${i}].${k}`, copy[k]);
            return copy;
          });
        }
      }
      if (Object.keys(values).length > 0) {
        key ??= await this.keys.keyForSealing(person);
        data[BLOB_FIELD] = sealValue(key, blobAad(e.id, streamId, data), values);
      }
      out.push({ ...e, data });
      this.remember(e.id, streamId, e.data);
    }
    return out;
  }

  /**
   * True when a person's stored event holds a personal value in the clear: written before
   * sealing existed (a log from an older version). Erasing that person cannot reach it.
   */
  holdsPlaintext(event: RecordedEvent): boolean {
    if (personOfStream(event.streamId) === undefined) return false;
    return Object.entries(event.data).some(([field, value]) => {
      const cls = classOf(event.type, field);
      if (cls === 'clear' || value === null || value === undefined) return false;
      if (cls === 'personal') return !isSealed(value);
      return Array.isArray(value) && value.some((el) => el !== null && typeof el === 'object' && !Array.isArray(el) && cls.each.some((k) => (el as Record<string, JsonValue>)[k] !== undefined && !isSealed((el as Record<string, JsonValue>)[k])));
    });
  }

  /** An erased person: nothing opened of theirs stays in memory. */
  forgetPerson(personId: string): void {
    this.keys.forget(personId);
    this.recent.deleteWhere((o) => personOfStream(o.streamId) === personId);
  }

  /**
   * Once an asynchronous request's outcome is stored, its body is no longer needed: its key is
   * destroyed, so the body it sealed is as unreadable as an erased person's data. Idempotent
   * (a re-run of the same completion finds the tombstone).
   */
  async afterAppend(streamId: string, events: readonly EventData[]): Promise<void> {
    if (!streamId.startsWith(ASYNC_REQUEST_STREAM_PREFIX) || !events.some((e) => e.type === ASYNC_REQUEST_COMPLETED)) return;
    await this.keys.erase(streamId);
    this.forgetPerson(streamId);
  }

  /** Loads the keys of the persons these events belong to (before a synchronous `open` of them). */
  load(events: readonly RecordedEvent[]): Promise<void> {
    const persons = new Set<string>();
    for (const e of events) {
      const p = personOfStream(e.streamId);
      if (p !== undefined) persons.add(p);
    }
    return this.keys.load(persons);
  }

  /** The event with its personal fields opened (memoised per event object: several projections share one open). */
  open(event: RecordedEvent): Opened {
    const memo = this.opened.get(event);
    if (memo) return memo;
    const known = this.recent.get(event.id);
    if (known && known.streamId === event.streamId && this.keys.peek(personOfStream(event.streamId) ?? '').state === 'live') {
      const again: Opened = { event: { ...event, data: known.data }, state: 'live' };
      this.opened.set(event, again);
      return again;
    }
    const result = this.openUncached(event);
    this.opened.set(event, result);
    if (result.state === 'live' && result.event !== event) this.remember(event.id, event.streamId, result.event.data);
    return result;
  }

  private remember(id: string, streamId: string, data: JsonObject): void {
    if (personOfStream(streamId) === undefined) return;
    this.recent.set(id, { streamId, data });
  }

  private openUncached(event: RecordedEvent): Opened {
    const person = personOfStream(event.streamId);
    const blob = event.data[BLOB_FIELD];
    if (person === undefined || typeof blob !== 'string') return { event, state: 'live' };
    const found = this.keys.peek(person);
    const state: OpenState = found.state === 'live' ? 'live' : found.state === 'erased' ? 'erased' : 'unknown';
    const { [BLOB_FIELD]: _blob, ...stored } = event.data;
    const values = found.state === 'live' ? (openValue(found.key, blobAad(event.id, event.streamId, stored), blob) as Record<string, JsonValue>) : undefined;
    // Erased (or not loaded): a value keeps its shape, a string reads "[erased]"; inside a diff, every value does.
    const value = (path: string, marker: string, inDiff: boolean): JsonValue =>
      values ? values[path] : inDiff ? ERASED : (structuredClone(TYPE_TAGS[marker.slice(SEALED_PREFIX.length) as TypeTag] ?? ERASED) as JsonValue);
    const data: Record<string, JsonValue> = {};
    for (const [field, v] of Object.entries(stored)) {
      if (isSealed(v)) data[field] = value(field, v, false);
      else if (Array.isArray(v) && v.some(elementSealed)) {
        data[field] = v.map((el, i) => {
          if (isSealed(el)) return value(`${field}[${i}]`, el, true);
          if (el === null || typeof el !== 'object' || Array.isArray(el)) return el;
          const copy: Record<string, JsonValue> = {};
          for (const [k, x] of Object.entries(el)) copy[k] = isSealed(x) ? value(`${field}[${i}].${k}`, x, true) : x;
          return copy;
        });
      } else data[field] = v;
    }
    return { event: { ...event, data: data as JsonObject }, state };
  }
}

/** Where an event's sealed values are stored (a name no event type uses). */
export const BLOB_FIELD = '$pii';

/**
 * The blob is bound to its event (id, stream) and to the stored event around it (its clear
 * fields and markers): a blob moved to another event, or a marker changed, fails to open.
 */
function blobAad(eventId: string, streamId: string, stored: Readonly<Record<string, JsonValue>>): string {
  return `${eventId}|${streamId}|${sortedJson(stored)}`;
}

/** JSON with object keys sorted: the same text whatever order a store gives the keys back in (PostgreSQL's jsonb sorts them). */
function sortedJson(v: JsonValue | undefined): string {
  if (v === null || v === undefined || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  return `{${Object.keys(v)
    .filter((k) => v[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`)
    .join(',')}}`;
}

function elementSealed(el: JsonValue): boolean {
  return isSealed(el) || (el !== null && typeof el === 'object' && !Array.isArray(el) && Object.values(el).some(isSealed));
}
