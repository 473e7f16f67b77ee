import type { EventData, JsonObject, JsonValue, RecordedEvent } from '@app/event-store';
import { ERASED, isSealed, openValue, SEALED_PREFIX, sealValue } from './data-key.cipher';
import type { DataKeyStore } from './data-key-store';
import { classOf, personOfStream } from './personal-fields';

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

const aad = (eventId: string, streamId: string, field: string) => `${eventId}|${streamId}|${field}`;

/**
 * Seals a person's personal fields with their data key (append) and opens them (read), per
 * field: the event keeps its shape, its ids and its clear fields, so the audit chain, filters
 * and exports work on the stored form. `personal-fields.ts` says which fields are personal.
 */
export class PersonalDataSealer {
  private readonly opened = new WeakMap<RecordedEvent, Opened>();
  // A rebuild feeds each projection its own read of the log (other objects, same events): the
  // last opens by event id save the decryptions the second and later projections would repeat.
  private readonly recent = new Map<string, Opened>();

  constructor(readonly keys: DataKeyStore) {}

  /** The events as they are to be stored. Throws `PersonErasedError` for an erased person. */
  async seal(streamId: string, events: readonly EventData[]): Promise<readonly EventData[]> {
    const person = personOfStream(streamId);
    if (person === undefined) return events;
    let key: Buffer | undefined;
    const out: EventData[] = [];
    for (const e of events) {
      const data: Record<string, JsonValue> = {};
      for (const [field, value] of Object.entries(e.data)) {
        const cls = classOf(e.type, field);
        if (cls === 'clear' || value === undefined || isSealed(value)) data[field] = value;
        else {
          key ??= await this.keys.keyForSealing(person);
          data[field] = cls === 'personal' ? sealTagged(key, aad(e.id, streamId, field), value) : sealEach(key, e.id, streamId, field, value, cls.each);
        }
      }
      out.push({ ...e, data });
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
    const stream = `account-${personId}`;
    for (const [id, o] of this.recent) if (o.event.streamId === stream) this.recent.delete(id);
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
    const byId = this.recent.get(event.id);
    if (byId && byId.event.position === event.position && byId.event.streamId === event.streamId && this.keys.peek(personOfStream(event.streamId) ?? '').state !== 'erased') {
      const again: Opened = { event: { ...event, data: byId.event.data }, state: byId.state };
      this.opened.set(event, again);
      return again;
    }
    const result = this.openUncached(event);
    this.opened.set(event, result);
    if (result.state === 'live' && result.event !== event) {
      this.recent.set(event.id, result);
      if (this.recent.size > RECENT_OPENS) this.recent.delete(this.recent.keys().next().value as string);
    }
    return result;
  }

  private openUncached(event: RecordedEvent): Opened {
    const person = personOfStream(event.streamId);
    if (person === undefined || !hasSealed(event.data)) return { event, state: 'live' };
    const found = this.keys.peek(person);
    const state: OpenState = found.state === 'live' ? 'live' : found.state === 'erased' ? 'erased' : 'unknown';
    const key = found.state === 'live' ? found.key : undefined;
    const data: Record<string, JsonValue> = {};
    for (const [field, value] of Object.entries(event.data)) {
      if (isSealed(value)) data[field] = openTagged(key, aad(event.id, event.streamId, field), value) as JsonValue;
      else if (Array.isArray(value) && value.some(elementSealed)) {
        data[field] = value.map((element, i) => {
          if (isSealed(element)) return openTagged(key, aad(event.id, event.streamId, `${field}[${i}]`), element, true) as JsonValue;
          if (element === null || typeof element !== 'object' || Array.isArray(element)) return element;
          const copy: Record<string, JsonValue> = {};
          for (const [k, v] of Object.entries(element)) copy[k] = isSealed(v) ? (openTagged(key, aad(event.id, event.streamId, `${field}[${i}].${k}`), v, true) as JsonValue) : v;
          return copy;
        });
      } else data[field] = value;
    }
    return { event: { ...event, data: data as JsonObject }, state };
  }
}

function sealTagged(key: Buffer, ad: string, value: unknown): string {
  const tag = tagOf(value);
  // The tag goes into the associated data too: it cannot be changed without failing the open.
  return SEALED_PREFIX + tag + ':' + sealValue(key, `${ad}|${tag}`, value).slice(SEALED_PREFIX.length);
}

function openTagged(key: Buffer | undefined, ad: string, sealed: string, asText = false): unknown {
  const tag = sealed.charAt(SEALED_PREFIX.length) as TypeTag;
  if (!key) return asText ? ERASED : structuredClone(TYPE_TAGS[tag] ?? ERASED);
  return openValue(key, `${ad}|${tag}`, SEALED_PREFIX + sealed.slice(SEALED_PREFIX.length + 2));
}

function sealEach(key: Buffer, eventId: string, streamId: string, field: string, value: JsonValue, keys: readonly string[]): JsonValue {
  if (!Array.isArray(value)) return sealTagged(key, aad(eventId, streamId, field), value);
  return value.map((element, i) => {
    if (element === null || typeof element !== 'object' || Array.isArray(element)) return sealTagged(key, aad(eventId, streamId, `${field}[${i}]`), element);
    const copy: Record<string, JsonValue> = { ...element };
    for (const k of keys) if (copy[k] !== undefined && !isSealed(copy[k])) copy[k] = sealTagged(key, aad(eventId, streamId, `${field}[${i}].${k}`), copy[k]);
    return copy;
  });
}

function elementSealed(el: JsonValue): boolean {
  return isSealed(el) || (el !== null && typeof el === 'object' && !Array.isArray(el) && Object.values(el).some(isSealed));
}

function hasSealed(data: JsonObject): boolean {
  for (const v of Object.values(data)) if (isSealed(v) || (Array.isArray(v) && v.some(elementSealed))) return true;
  return false;
}
