import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '@app/decider/testing';
import { Conflict, InvalidCommand, ResourceNotFound } from '@app/identity/domain';
import { type StreamDecidedEvent, streamDecider } from './stream.decider';
import { DeliveryMethod } from './stream.events';

const spec = DeciderSpecification.for(streamDecider);
const streamId = 's-1';
const scope = 'application';
const now = '2026-03-01T00:00:00.000Z';
const config = {
  audience: 'https://rp.example',
  eventsRequested: ['urn:ietf:params:scim:event:prov:delete'],
  method: DeliveryMethod.push,
  endpointUrl: 'https://rp.example/events',
  authorizationHeader: 'Bearer rp-secret',
  alg: 'EdDSA' as const,
  description: null,
  issuer: 'https://scim.example/api/scim/v2/application',
};
const created: StreamDecidedEvent = { type: 'SetStreamCreated', data: { streamId, scope, ...config }, occurredAt: now };
const settings = {
  audience: config.audience,
  eventsRequested: config.eventsRequested,
  method: config.method,
  endpointUrl: config.endpointUrl,
  authorizationHeader: config.authorizationHeader,
};
const alice = { resource: 'Users' as const, id: 'u-1' };

describe('SET stream decider', () => {
  it('creates a push stream with the defaults (EdDSA, no description)', () => {
    spec.given([]).when({ type: 'CreateStream', streamId, scope, settings, defaultAudience: 'x', issuer: config.issuer, now }).then([created]);
  });

  it('creates a poll stream whose endpoint is ours, not the receiver’s', () => {
    spec
      .given([])
      .when({ type: 'CreateStream', streamId, scope, settings: { method: DeliveryMethod.poll, endpointUrl: 'https://evil.example' }, defaultAudience: 'aud-1', issuer: config.issuer, now })
      .then([
        {
          type: 'SetStreamCreated',
          data: { streamId, scope, audience: 'aud-1', eventsRequested: [], method: DeliveryMethod.poll, endpointUrl: null, authorizationHeader: null, alg: 'EdDSA', description: null, issuer: config.issuer },
          occurredAt: now,
        },
      ]);
  });

  it.each([
    ['plain http to a remote host', 'http://rp.example/events'],
    ['not a URL', 'rp.example'],
    ['credentials in the URL', 'https://u:p@rp.example/'],
    ['plain http to a name (it may not resolve to loopback)', 'http://localhost:1/r'],
  ])('refuses a push receiver URL with %s', (_, endpointUrl) => {
    spec
      .given([])
      .when({ type: 'CreateStream', streamId, scope, settings: { ...settings, endpointUrl }, defaultAudience: 'x', issuer: config.issuer, now })
      .thenThrows(InvalidCommand, (e) => e.attribute === 'delivery.endpoint_url');
  });

  it.each(['http://127.0.0.1:9999/r', 'http://[::1]:9999/r'])('accepts plain http on loopback (%s)', (endpointUrl) => {
    spec
      .given([])
      .when({ type: 'CreateStream', streamId, scope, settings: { ...settings, endpointUrl }, defaultAudience: 'x', issuer: config.issuer, now })
      .then([{ ...created, data: { ...created.data, endpointUrl } } as StreamDecidedEvent]);
  });

  it('refuses an unknown signing algorithm and a second create', () => {
    spec.given([]).when({ type: 'CreateStream', streamId, scope, settings: { ...settings, alg: 'HS256' }, defaultAudience: 'x', issuer: config.issuer, now }).thenThrows(InvalidCommand);
    spec.given([created]).when({ type: 'CreateStream', streamId, scope, settings, defaultAudience: 'x', issuer: config.issuer, now }).thenThrows(Conflict);
  });

  it('updates only what changes; an update that changes nothing is no event', () => {
    spec
      .given([created])
      .when({ type: 'UpdateStream', streamId, scope, settings: { alg: 'ES256' }, replace: false, now })
      .then([{ type: 'SetStreamUpdated', data: { streamId, scope, ...config, alg: 'ES256' }, occurredAt: now }]);
    spec.given([created]).when({ type: 'UpdateStream', streamId, scope, settings: {}, replace: false, now }).thenNothingHappened();
  });

  it('another scope’s stream and a deleted one are not found', () => {
    spec.given([created]).when({ type: 'DeleteStream', streamId, scope: 'group:x', now }).thenThrows(ResourceNotFound);
    spec
      .given([created, { type: 'SetStreamDeleted', data: { streamId, scope }, occurredAt: now }])
      .when({ type: 'ChangeStatus', streamId, scope, status: 'paused', now })
      .thenThrows(ResourceNotFound);
  });

  it('pauses, and refuses a status SSF does not know', () => {
    spec
      .given([created])
      .when({ type: 'ChangeStatus', streamId, scope, status: 'paused', reason: 'maintenance', now })
      .then([{ type: 'SetStreamStatusChanged', data: { streamId, scope, status: 'paused', reason: 'maintenance' }, occurredAt: now }]);
    spec.given([created]).when({ type: 'ChangeStatus', streamId, scope, status: 'stopped', now }).thenThrows(InvalidCommand);
  });

  it('removes a subject once, and adds it back once', () => {
    const removed: StreamDecidedEvent = { type: 'SetStreamSubjectRemoved', data: { streamId, scope, subject: alice }, occurredAt: now };
    spec.given([created]).when({ type: 'RemoveSubject', streamId, scope, subject: alice, now }).then([removed]);
    spec.given([created, removed]).when({ type: 'RemoveSubject', streamId, scope, subject: alice, now }).thenNothingHappened();
    spec.given([created]).when({ type: 'AddSubject', streamId, scope, subject: alice, now }).thenNothingHappened();
    spec
      .given([created, removed])
      .when({ type: 'AddSubject', streamId, scope, subject: alice, now })
      .then([{ type: 'SetStreamSubjectAdded', data: { streamId, scope, subject: alice }, occurredAt: now }]);
  });

  it('marks a failing stream once and recovers it', () => {
    const failing: StreamDecidedEvent = { type: 'SetStreamFailing', data: { streamId, scope, since: now, lastError: '503' }, occurredAt: now };
    spec.given([created]).when({ type: 'MarkFailing', streamId, scope, since: now, lastError: '503', now }).then([failing]);
    spec.given([created, failing]).when({ type: 'MarkFailing', streamId, scope, since: now, lastError: '503', now }).thenNothingHappened();
    spec.given([created, failing]).when({ type: 'MarkRecovered', streamId, scope, now }).then([{ type: 'SetStreamRecovered', data: { streamId, scope }, occurredAt: now }]);
  });
});
