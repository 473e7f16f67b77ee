import { eventFamily } from '@app/identity/domain';

/** `push` is RFC 8935 (the server POSTs each SET to the receiver), `poll` RFC 8936 (the receiver POSTs to fetch). */
export const DeliveryMethod = { push: 'urn:ietf:rfc:8935', poll: 'urn:ietf:rfc:8936' } as const;
export type DeliveryMethodUri = (typeof DeliveryMethod)[keyof typeof DeliveryMethod];

export type SigningAlg = 'EdDSA' | 'ES256';
export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/** A stream's settings as the events carry them (the SSF stream configuration, in our words). */
export interface StreamConfig {
  audience: string;
  eventsRequested: string[];
  method: DeliveryMethodUri;
  /** Push: the receiver's URL. Poll: null (the endpoint is ours). */
  endpointUrl: string | null;
  /** Push: the `Authorization` header the receiver wants. A secret: the audit view masks it. */
  authorizationHeader: string | null;
  alg: SigningAlg;
  description: string | null;
  /** `iss` of its SETs: the scope's SCIM base when the stream was made (stable, even if the group path changes). */
  issuer: string;
}

/** A subject of a stream, as `Users/<id>` or `Groups/<id>`. */
export interface StreamSubject {
  resource: 'Users' | 'Groups';
  id: string;
}

/** Events of the `setStream-{id}` stream: the SSF stream as receivers and auditors see it. */
export interface StreamEventMap {
  SetStreamCreated: { streamId: string; scope: string } & StreamConfig;
  SetStreamUpdated: { streamId: string; scope: string } & StreamConfig;
  SetStreamStatusChanged: { streamId: string; scope: string; status: StreamStatus; reason: string | null };
  SetStreamSubjectAdded: { streamId: string; scope: string; subject: StreamSubject };
  SetStreamSubjectRemoved: { streamId: string; scope: string; subject: StreamSubject };
  SetStreamVerificationRequested: { streamId: string; scope: string; state: string | null };
  SetStreamDeleted: { streamId: string; scope: string };
  /** Push kept failing past the stream's limit (first failure `since`). */
  SetStreamFailing: { streamId: string; scope: string; since: string; lastError: string };
  SetStreamRecovered: { streamId: string; scope: string };
  /** The receiver answered 400 `{err, description}` for a SET: recorded, not retried (RFC 8935 §2.3). */
  SetRejectedByReceiver: { streamId: string; scope: string; jti: string; err: string; description: string | null };
}

export type StreamEventType = keyof StreamEventMap;
export type StreamEvent = { [K in StreamEventType]: { type: K; data: StreamEventMap[K] } }[StreamEventType];
export const STREAM_EVENT_TYPES = [
  'SetStreamCreated',
  'SetStreamUpdated',
  'SetStreamStatusChanged',
  'SetStreamSubjectAdded',
  'SetStreamSubjectRemoved',
  'SetStreamVerificationRequested',
  'SetStreamDeleted',
  'SetStreamFailing',
  'SetStreamRecovered',
  'SetRejectedByReceiver',
] as const satisfies readonly StreamEventType[];

export const streamEvents = eventFamily<StreamEvent>(STREAM_EVENT_TYPES);

export const SET_STREAM_PREFIX = 'setStream-';
export const setStreamId = (id: string) => `${SET_STREAM_PREFIX}${id}`;

/**
 * Delivery progress of a stream, on its own stream `setDelivery-{id}` (bookkeeping, not audited):
 * acknowledged `jti`s (poll) and the last SET a push receiver accepted. A `SetsSettled` carries
 * the acknowledgements above its floor, so the state is read backwards up to the last one.
 */
export interface DeliveryEventMap {
  SetsAcknowledged: { jtis: string[] };
  /** Every SET up to this key is settled: accepted by a push receiver, or acknowledged (poll). */
  SetsSettled: { position: string; index: number; ackedAbove?: string[] };
}
export type DeliveryEvent = { [K in keyof DeliveryEventMap]: { type: K; data: DeliveryEventMap[K] } }[keyof DeliveryEventMap];
export const DELIVERY_EVENT_TYPES = ['SetsAcknowledged', 'SetsSettled'] as const;
export const deliveryEvents = eventFamily<DeliveryEvent>(DELIVERY_EVENT_TYPES);
export const SET_DELIVERY_PREFIX = 'setDelivery-';
export const setDeliveryStreamId = (id: string) => `${SET_DELIVERY_PREFIX}${id}`;
