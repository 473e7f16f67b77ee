import type { AuditEnvelope } from './audit-envelope';
import { maskEnvelope } from './audit-envelope';

const base: AuditEnvelope = {
  id: 'e1',
  type: 'ProvisioningRejected',
  position: '7',
  stream: 'provisioningRejections-application',
  revision: '0',
  scope: 'application',
  recordedAt: '2026-01-01T00:00:00.000Z',
  occurredAt: '2026-01-01T00:00:00.000Z',
  actor: { kind: 'scim_token', tokenId: 't1' },
  target: { type: 'request', id: '0b6f3f0e-6b7e-4b39-9d43-5a8c4c7d1e2f' },
  changes: [],
  outcome: 'rejected',
  request: { method: 'PATCH', path: '/api/scim/v2/Users/alice@example.com', status: 400 },
  data: { status: 400, attribute: 'emails[value eq "alice@example.com"].type', method: 'PATCH', resource: 'Users' },
};

describe('masking for auditors without the pii grant', () => {
  it('keeps route words and ids of a request path, masks client text in it', () => {
    const masked = maskEnvelope({ ...base, request: { method: 'GET', path: '/api/scim/v2/Users/0b6f3f0e-6b7e-4b39-9d43-5a8c4c7d1e2f/alice@example.com' } });
    expect(masked.request).toEqual({ method: 'GET', path: '/api/scim/v2/Users/0b6f3f0e-6b7e-4b39-9d43-5a8c4c7d1e2f/***' });
    // What the request context stores today: the route with its parameters named.
    expect(maskEnvelope({ ...base, request: { method: 'DELETE', path: '/api/scim/v2/application/Users/:id' } }).request?.path).toBe('/api/scim/v2/application/Users/:id');
  });
  it('keeps an attribute path name but not the filter or values in it', () => {
    const masked = maskEnvelope(base);
    expect(JSON.stringify(masked)).not.toContain('alice');
    expect(masked.data.attribute).toBe('emails[***]');
    expect(maskEnvelope({ ...base, data: { attribute: 'name.givenName' } }).data.attribute).toBe('name.givenName');
    expect(maskEnvelope({ ...base, data: { attribute: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber' } }).data.attribute).toMatch(/employeeNumber$/);
    expect(maskEnvelope({ ...base, data: { attribute: 'alice smith' } }).data.attribute).toBe('***');
  });
  it('masks the whole body an accepted asynchronous request keeps, and client text in its URL', () => {
    const accepted = maskEnvelope({
      ...base,
      type: 'AsyncRequestAccepted',
      data: {
        txn: 't1',
        method: 'PATCH',
        url: '/api/scim/v2/application/Users/alice@example.com?attributes=emails',
        body: { Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'alice@example.com' }] },
      },
    });
    expect(JSON.stringify(accepted)).not.toContain('alice');
    expect(accepted.data).toMatchObject({ txn: 't1', method: 'PATCH', url: '/api/scim/v2/application/Users/***', body: '***' });
  });
});
