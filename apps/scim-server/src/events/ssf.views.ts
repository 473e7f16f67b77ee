import { DeliveryMethod, eventsDelivered, type PushStatus, type StreamConfig, type StreamView, SUPPORTED_EVENT_URIS } from '@app/events';

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
