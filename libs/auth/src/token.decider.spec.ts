import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '@app/decider/testing';
import { InvalidCommand, ResourceNotFound } from '@app/identity';
import { type TokenCommand, tokenDecider, type TokenDecidedEvent } from './token.decider';

const spec = DeciderSpecification.for(tokenDecider);
const T0 = '2026-01-01T00:00:00.000Z';
const now = '2026-01-02T00:00:00.000Z';
const sha256 = 'ab'.repeat(32);

const scimIssued: TokenDecidedEvent = { type: 'ScimTokenIssued', data: { tokenId: 't-1', scope: 'group:g-1', sha256 }, occurredAt: T0 };
const adminIssued: TokenDecidedEvent = { type: 'ManagementTokenIssued', data: { tokenId: 't-2', role: 'admin', sha256, pii: false }, occurredAt: T0 };
const revoke = (tokenId: string, kind: 'scim' | 'management'): TokenCommand => ({ type: 'RevokeToken', tokenId, kind, now });

describe('token decider', () => {
  describe('issue', () => {
    it('issues a SCIM token with only the hash of its secret', () => {
      spec
        .given([])
        .when({ type: 'IssueScimToken', tokenId: 't-1', scope: 'group:g-1', sha256, name: 'okta', expiresAt: '2027-01-01T00:00:00Z', now })
        .then([
          { type: 'ScimTokenIssued', data: { tokenId: 't-1', scope: 'group:g-1', sha256, name: 'okta', expiresAt: '2027-01-01T00:00:00Z' }, occurredAt: now },
        ]);
    });

    it('issues a management token, pii off unless asked, bootstrap only when said', () => {
      spec.given([]).when({ type: 'IssueManagementToken', tokenId: 't-2', role: 'admin', sha256, now }).then([{ ...adminIssued, occurredAt: now }]);
      spec
        .given([])
        .when({ type: 'IssueManagementToken', tokenId: 't-3', role: 'auditor', sha256, pii: true, bootstrap: true, name: 'b', now })
        .then([{ type: 'ManagementTokenIssued', data: { tokenId: 't-3', role: 'auditor', sha256, pii: true, name: 'b', bootstrap: true }, occurredAt: now }]);
    });

    it('refuses an expiry that is not after the time of the command', () => {
      spec
        .given([])
        .when({ type: 'IssueScimToken', tokenId: 't-1', scope: 'application', sha256, expiresAt: now, now })
        .thenThrows(InvalidCommand, (e) => e.attribute === 'expiresAt');
      spec
        .given([])
        .when({ type: 'IssueManagementToken', tokenId: 't-2', role: 'support', sha256, expiresAt: '2025-12-31T23:59:59Z', now })
        .thenThrows(InvalidCommand, (e) => e.attribute === 'expiresAt');
    });

    it('refuses a token id that was issued before', () => {
      spec.given([scimIssued]).when({ type: 'IssueScimToken', tokenId: 't-1', scope: 'application', sha256, now }).thenThrows(InvalidCommand);
    });
  });

  it('stores the data with the keys in the order the log has always had (audit hash chains hash the JSON)', () => {
    const [scim] = tokenDecider.decide({ type: 'IssueScimToken', tokenId: 't', scope: 'application', sha256: 'h', name: 'n', expiresAt: '2027-01-01T00:00:00Z', now }, tokenDecider.initialState());
    expect(JSON.stringify(scim.data)).toBe('{"tokenId":"t","scope":"application","sha256":"h","name":"n","expiresAt":"2027-01-01T00:00:00Z"}');
    const [mgmt] = tokenDecider.decide(
      { type: 'IssueManagementToken', tokenId: 't', role: 'admin', sha256: 'h', name: 'n', expiresAt: '2027-01-01T00:00:00Z', bootstrap: true, now },
      tokenDecider.initialState(),
    );
    expect(JSON.stringify(mgmt.data)).toBe('{"tokenId":"t","role":"admin","sha256":"h","pii":false,"name":"n","expiresAt":"2027-01-01T00:00:00Z","bootstrap":true}');
  });

  describe('revoke', () => {
    it('revokes a SCIM token, naming its scope, and a management token, naming its role', () => {
      spec.given([scimIssued]).when(revoke('t-1', 'scim')).then([{ type: 'ScimTokenRevoked', data: { tokenId: 't-1', scope: 'group:g-1' }, occurredAt: now }]);
      spec.given([adminIssued]).when(revoke('t-2', 'management')).then([{ type: 'ManagementTokenRevoked', data: { tokenId: 't-2', role: 'admin' }, occurredAt: now }]);
    });

    it('accepts a second revocation and records nothing', () => {
      const revoked: TokenDecidedEvent = { type: 'ScimTokenRevoked', data: { tokenId: 't-1', scope: 'group:g-1' }, occurredAt: T0 };
      spec.given([scimIssued, revoked]).when(revoke('t-1', 'scim')).thenNothingHappened();
    });

    it('revokes a token that has expired (it stays listed, now revoked)', () => {
      const expired: TokenDecidedEvent = { type: 'ScimTokenIssued', data: { tokenId: 't-1', scope: 'application', sha256, expiresAt: T0 }, occurredAt: T0 };
      spec.given([expired]).when(revoke('t-1', 'scim')).then([{ type: 'ScimTokenRevoked', data: { tokenId: 't-1', scope: 'application' }, occurredAt: now }]);
    });

    it('does not find an unknown token, nor one of the other kind', () => {
      spec.given([]).when(revoke('t-9', 'scim')).thenThrows(ResourceNotFound, (e) => e.id === 't-9');
      spec.given([scimIssued]).when(revoke('t-1', 'management')).thenThrows(ResourceNotFound);
      spec.given([adminIssued]).when(revoke('t-2', 'scim')).thenThrows(ResourceNotFound);
    });
  });
});
