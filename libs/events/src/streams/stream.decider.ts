import type { Decider } from '@app/decider';
import { Conflict, InvalidCommand, type Occurred, ResourceNotFound } from '@app/identity/domain';
import { DEFAULT_EVENT_URIS, SUPPORTED_EVENT_URIS } from '../sets/scim-event-uris';
import {
  DeliveryMethod,
  type StreamConfig,
  type StreamEvent,
  type StreamStatus,
  type StreamSubject,
} from './stream.events';

export type StreamDecidedEvent = Occurred<StreamEvent>;

/** What a receiver (or an admin) may set on a stream; absent fields keep their value on update. */
export interface StreamSettings {
  audience?: string;
  eventsRequested?: string[];
  method?: string;
  endpointUrl?: string | null;
  authorizationHeader?: string | null;
  alg?: string;
  description?: string | null;
}

export type StreamCommand =
  | { type: 'CreateStream'; streamId: string; scope: string; settings: StreamSettings; defaultAudience: string; issuer: string; now: string }
  | { type: 'UpdateStream'; streamId: string; scope: string; settings: StreamSettings; replace: boolean; now: string }
  | { type: 'DeleteStream'; streamId: string; scope: string; now: string }
  | { type: 'ChangeStatus'; streamId: string; scope: string; status: string; reason?: string; now: string }
  | { type: 'AddSubject'; streamId: string; scope: string; subject: StreamSubject; now: string }
  | { type: 'RemoveSubject'; streamId: string; scope: string; subject: StreamSubject; now: string }
  | { type: 'RequestVerification'; streamId: string; scope: string; state?: string; now: string }
  | { type: 'MarkFailing'; streamId: string; scope: string; since: string; lastError: string; now: string }
  | { type: 'MarkRecovered'; streamId: string; scope: string; now: string }
  | { type: 'RecordRejection'; streamId: string; scope: string; jti: string; err: string; description: string | null; now: string };

export interface StreamState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly id: string;
  readonly scope: string;
  readonly config: StreamConfig | null;
  readonly status: StreamStatus;
  /** Subjects taken out of the default "every User and Group of the scope". */
  readonly excluded: readonly string[];
  readonly failing: { readonly since: string; readonly lastError: string } | null;
  readonly createdAt: string | null;
}

export const initialState = (): StreamState => ({
  exists: false,
  deleted: false,
  id: '',
  scope: '',
  config: null,
  status: 'enabled',
  excluded: [],
  failing: null,
  createdAt: null,
});

export const subjectKey = (s: StreamSubject) => `${s.resource}/${s.id}`;

export function evolve(state: StreamState, event: StreamDecidedEvent): StreamState {
  switch (event.type) {
    case 'SetStreamCreated': {
      const { streamId, scope, ...config } = event.data;
      return { ...initialState(), exists: true, id: streamId, scope, config, createdAt: event.occurredAt };
    }
    case 'SetStreamUpdated': {
      const { streamId: _, scope: __, ...config } = event.data;
      return { ...state, config };
    }
    case 'SetStreamStatusChanged':
      return { ...state, status: event.data.status };
    case 'SetStreamSubjectAdded':
      return { ...state, excluded: state.excluded.filter((k) => k !== subjectKey(event.data.subject)) };
    case 'SetStreamSubjectRemoved':
      return { ...state, excluded: [...state.excluded, subjectKey(event.data.subject)] };
    case 'SetStreamDeleted':
      return { ...state, deleted: true };
    case 'SetStreamFailing':
      return { ...state, failing: { since: event.data.since, lastError: event.data.lastError } };
    case 'SetStreamRecovered':
      return { ...state, failing: null };
    case 'SetStreamVerificationRequested':
    case 'SetRejectedByReceiver':
      return state;
  }
}

const STATUSES: readonly string[] = ['enabled', 'paused', 'disabled'];
const METHODS: readonly string[] = Object.values(DeliveryMethod);
const ALGS: readonly string[] = ['EdDSA', 'ES256'];
const MAX_TEXT = 2048;

/**
 * A receiver URL must be https; plain http only on a loopback address (a local receiver or a
 * test), so SETs and the receiver's authorization header never cross a network in clear.
 */
export function checkReceiverUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidCommand('delivery.endpoint_url must be an absolute URL', 'delivery.endpoint_url');
  }
  if (url.username || url.password) throw new InvalidCommand('delivery.endpoint_url must not carry credentials', 'delivery.endpoint_url');
  if (url.protocol === 'https:') return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = /^127(\.\d{1,3}){3}$/.test(host) || host === '::1';
  if (url.protocol === 'http:' && loopback) return;
  throw new InvalidCommand('delivery.endpoint_url must be https (plain http only for loopback receivers)', 'delivery.endpoint_url');
}

function text(value: unknown, attribute: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length > MAX_TEXT || /\p{Cc}/u.test(value)) {
    throw new InvalidCommand(`${attribute} must be a string of at most ${MAX_TEXT} characters without control characters`, attribute);
  }
  return value;
}

/** The configuration `settings` make from `base` (a create starts from the defaults). */
export function configOf(settings: StreamSettings, base: StreamConfig): StreamConfig {
  const method = settings.method ?? base.method;
  if (!METHODS.includes(method)) throw new InvalidCommand(`delivery.method must be one of ${METHODS.join(', ')}`, 'delivery.method');
  const alg = settings.alg ?? base.alg;
  if (!ALGS.includes(alg)) throw new InvalidCommand(`signing_alg must be one of ${ALGS.join(', ')}`, 'signing_alg');
  const events = settings.eventsRequested ?? base.eventsRequested;
  if (!Array.isArray(events) || events.some((u) => typeof u !== 'string')) throw new InvalidCommand('events_requested must be an array of event URIs', 'events_requested');
  const audience = text(settings.audience ?? base.audience, 'aud');
  if (!audience) throw new InvalidCommand('aud must not be empty', 'aud');
  let endpointUrl = settings.endpointUrl === undefined ? base.endpointUrl : text(settings.endpointUrl, 'delivery.endpoint_url');
  if (method === DeliveryMethod.push) {
    if (!endpointUrl) throw new InvalidCommand('push delivery needs delivery.endpoint_url', 'delivery.endpoint_url');
    checkReceiverUrl(endpointUrl);
  } else {
    // Poll: the endpoint is the transmitter's own; a receiver cannot choose it.
    endpointUrl = null;
  }
  return {
    audience,
    // Only what this server emits; the rest is silently not delivered (SSF: events_delivered ⊆ events_supported).
    eventsRequested: [...new Set(events)],
    method: method as StreamConfig['method'],
    endpointUrl,
    authorizationHeader: settings.authorizationHeader === undefined ? base.authorizationHeader : text(settings.authorizationHeader, 'delivery.authorization_header'),
    alg: alg as StreamConfig['alg'],
    description: settings.description === undefined ? base.description : text(settings.description, 'description'),
    issuer: base.issuer,
  };
}

/** `events_delivered`: what the stream asked for that this server emits; asking for nothing means the `:notice` defaults. */
export function eventsDelivered(config: StreamConfig): string[] {
  if (config.eventsRequested.length === 0) return [...DEFAULT_EVENT_URIS];
  return config.eventsRequested.filter((u) => SUPPORTED_EVENT_URIS.includes(u));
}

const defaults = (audience: string, issuer: string): StreamConfig => ({
  issuer,
  audience,
  eventsRequested: [],
  method: DeliveryMethod.poll,
  endpointUrl: null,
  authorizationHeader: null,
  alg: 'EdDSA',
  description: null,
});

export function decide(command: StreamCommand, state: StreamState): StreamDecidedEvent[] {
  const { streamId, scope, now } = command;
  const at = (e: StreamEvent): StreamDecidedEvent => ({ ...e, occurredAt: now }) as StreamDecidedEvent;
  if (command.type === 'CreateStream') {
    if (state.exists) throw new Conflict(`Stream ${streamId} already exists`);
    const config = configOf(command.settings, defaults(command.defaultAudience, command.issuer));
    return [at({ type: 'SetStreamCreated', data: { streamId, scope, ...config } })];
  }
  // Another scope's stream is as absent as a missing one: its id reveals nothing.
  if (!state.exists || state.deleted || state.scope !== scope) throw new ResourceNotFound('Stream', streamId);
  const config = state.config as StreamConfig;
  switch (command.type) {
    case 'UpdateStream': {
      const next = configOf(command.settings, command.replace ? defaults(config.audience, config.issuer) : config);
      if (JSON.stringify(next) === JSON.stringify(config)) return [];
      return [at({ type: 'SetStreamUpdated', data: { streamId, scope, ...next } })];
    }
    case 'DeleteStream':
      return [at({ type: 'SetStreamDeleted', data: { streamId, scope } })];
    case 'ChangeStatus': {
      if (!STATUSES.includes(command.status)) throw new InvalidCommand(`status must be one of ${STATUSES.join(', ')}`, 'status');
      if (command.status === state.status) return [];
      const reason = text(command.reason, 'reason');
      return [at({ type: 'SetStreamStatusChanged', data: { streamId, scope, status: command.status as StreamStatus, reason } })];
    }
    case 'AddSubject':
      if (!state.excluded.includes(subjectKey(command.subject))) return [];
      return [at({ type: 'SetStreamSubjectAdded', data: { streamId, scope, subject: command.subject } })];
    case 'RemoveSubject':
      if (state.excluded.includes(subjectKey(command.subject))) return [];
      return [at({ type: 'SetStreamSubjectRemoved', data: { streamId, scope, subject: command.subject } })];
    case 'RequestVerification':
      return [at({ type: 'SetStreamVerificationRequested', data: { streamId, scope, state: text(command.state, 'state') } })];
    case 'MarkFailing':
      if (state.failing) return [];
      return [at({ type: 'SetStreamFailing', data: { streamId, scope, since: command.since, lastError: command.lastError.slice(0, 500) } })];
    case 'MarkRecovered':
      return state.failing ? [at({ type: 'SetStreamRecovered', data: { streamId, scope } })] : [];
    case 'RecordRejection':
      return [
        at({
          type: 'SetRejectedByReceiver',
          data: { streamId, scope, jti: command.jti, err: command.err.slice(0, 200), description: command.description?.slice(0, 500) ?? null },
        }),
      ];
  }
}

export const streamDecider: Decider<StreamCommand, StreamDecidedEvent, StreamState> = { initialState, evolve, decide };
