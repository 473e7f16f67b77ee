import { DeliveryMethod, type DeliveryProgress, eventsDelivered, type FeedKey, type PushStatus, type StreamConfig, type StreamView, SUPPORTED_EVENT_URIS } from '@app/events';

/** The SSF 1.0 transmitter configuration of one scope (`/.well-known/ssf-configuration`). */
export function ssfConfiguration(publicUrl: string, scimBase: string) {
  const ssf = `${scimBase}/ssf`;
  return {
    spec_version: '1_0',
    issuer: scimBase,
    jwks_uri: `${publicUrl}/api/ssf/jwks.json`,
    delivery_methods_supported: [DeliveryMethod.push, DeliveryMethod.poll],
    configuration_endpoint: `${ssf}/stream`,
    status_endpoint: `${ssf}/status`,
    add_subject_endpoint: `${ssf}/subjects/add`,
    remove_subject_endpoint: `${ssf}/subjects/remove`,
    verification_endpoint: `${ssf}/verify`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
    default_subjects: 'ALL',
  };
}

/** A stream as SSF §8.1.1 shows it. The receiver's authorization header is a secret: never echoed. */
export function streamConfiguration(view: StreamView) {
  const { state } = view;
  const config = state.config as StreamConfig;
  return {
    stream_id: state.id,
    iss: config.issuer,
    aud: config.audience,
    events_supported: SUPPORTED_EVENT_URIS,
    events_requested: config.eventsRequested,
    events_delivered: eventsDelivered(config),
    delivery: {
      method: config.method,
      endpoint_url: config.method === DeliveryMethod.poll ? `${config.issuer}/ssf/poll/${state.id}` : config.endpointUrl,
      ...(config.authorizationHeader ? { authorization_header: '(set)' } : {}),
    },
    ...(config.description !== null ? { description: config.description } : {}),
    signing_alg: config.alg,
  };
}

/** SSF stream status, with delivery health (lag, failing, last error) as extension members. */
export function streamStatus(view: StreamView, lag: { head: string | null; settled: string | null }, push: PushStatus | undefined) {
  const { state } = view;
  return {
    stream_id: state.id,
    status: state.status,
    delivery_health: {
      failing: state.failing !== null,
      ...(state.failing ? { failing_since: state.failing.since } : {}),
      last_error: push?.lastError ?? state.failing?.lastError ?? null,
      attempts: push?.attempts ?? 0,
      head: lag.head,
      settled: lag.settled,
    },
  };
}

/**
 * One stream as the operator's list shows it (`GET /api/v1/ssf/streams`): where it delivers and
 * how it is doing. Lag is counted in log positions, as `/metrics` counts it (newest SET of the
 * scope minus what the stream has settled, 0 when caught up). No authorization header, not even
 * whether one is set: the list is for watching, the SSF endpoints for configuring.
 */
export function streamOverview(view: StreamView, progress: DeliveryProgress, head: FeedKey | null, push: PushStatus | undefined) {
  const { state } = view;
  const config = state.config as StreamConfig;
  const settled = progress.floor?.position ?? view.createdAt;
  return {
    stream_id: state.id,
    scope: state.scope,
    ...(config.description !== null ? { description: config.description } : {}),
    aud: config.audience,
    delivery: { method: config.method, endpoint_url: config.method === DeliveryMethod.poll ? `${config.issuer}/ssf/poll/${state.id}` : config.endpointUrl },
    events_delivered: eventsDelivered(config),
    status: state.status,
    created_at: state.createdAt,
    delivery_health: {
      failing: state.failing !== null,
      ...(state.failing ? { failing_since: state.failing.since } : {}),
      last_error: push?.lastError ?? state.failing?.lastError ?? null,
      attempts: push?.attempts ?? 0,
      head: head ? `${head.position}.${head.index}` : null,
      settled: progress.floor ? `${progress.floor.position}.${progress.floor.index}` : null,
      lag: head && head.position > settled ? Number(head.position - settled) : 0,
      last_delivery_at: progress.lastAt ?? null,
    },
  };
}
