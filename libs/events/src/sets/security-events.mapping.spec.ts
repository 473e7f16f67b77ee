import { describe, expect, it } from '@jest/globals';
import type { JsonObject, RecordedEvent } from '@app/event-store';
import type { IdentityState } from '@app/identity';
import { type FeedEntry, type GroupView, type ResourceView, securityEventsFor } from './security-events.mapping';
import { ScimEventUri } from './scim-event-uris';
import { setClaimsFor } from './set-claims';

const T = '2026-03-01T10:00:00.000Z';
const scope = 'application';
const accountId = 'a-1';
const identityId = 'u-1';
let position = 100n;

function recorded(streamId: string, revision: bigint, type: string, data: JsonObject, meta: JsonObject = {}): RecordedEvent {
  position += 1n;
  return { id: `e-${position}`, streamId, revision, position, type, data, metadata: { $correlationId: 'txn-1', occurredAt: T, ...meta }, recordedAt: new Date(T) };
}

/** Given the events so far (folded as the feed projection folds them), when one more event comes: then these entries. */
function given(events: RecordedEvent[]) {
  const identities = new Map<string, IdentityState>();
  const groups = new Map<string, GroupView>();
  const view: ResourceView = { identity: (id) => identities.get(id), group: (id) => groups.get(id), asyncIsBulk: () => false };
  const apply = (e: RecordedEvent) => {
    const change = securityEventsFor(e, view);
    if (change.identity) identities.set(change.identity.id, change.identity);
    if (change.group) groups.set(change.group.id, change.group);
    return change.entries;
  };
  events.forEach(apply);
  return { when: (e: RecordedEvent) => ({ then: (check: (entries: FeedEntry[]) => void) => check(apply(e)) }) };
}

const provisioned = () =>
  recorded(`account-${accountId}`, 0n, 'UserProvisioned', {
    accountId,
    username: 'alice',
    identityId,
    scope,
    userName: 'alice@example.com',
    externalId: 'ext-1',
    samlNameId: 'ext-1',
    attributes: { userName: 'alice@example.com', externalId: 'ext-1', name: { givenName: 'Alice' }, emails: [{ value: 'alice@example.com' }] },
    active: true,
  });

describe('securityEventsFor: the log as RFC 9967 events', () => {
  it('a POST becomes prov:create:notice naming attributes, never values, with the ETag as version', () => {
    given([]).when(provisioned()).then((entries) => {
      expect(entries).toHaveLength(1);
      const [entry] = entries;
      expect(entry.subId).toEqual({ format: 'scim', uri: `/Users/${identityId}`, externalId: 'ext-1' });
      expect(entry.txn).toBe('txn-1');
      expect(entry.toe).toBe(Date.parse(T) / 1000);
      expect(entry.notice).toEqual({ [ScimEventUri.createNotice]: { attributes: ['active', 'emails', 'externalId', 'name', 'userName'], version: 'W/"0"' } });
      expect(JSON.stringify(entry.notice)).not.toContain('Alice');
      expect(entry.full[ScimEventUri.createFull]).toMatchObject({ data: { id: identityId, name: { givenName: 'Alice' }, active: true }, version: 'W/"0"' });
    });
  });

  it('never carries a password, even in :full', () => {
    const e = provisioned();
    (e.data.attributes as JsonObject).password = 'hunter2';
    given([]).when(e).then(([entry]) => {
      expect(JSON.stringify({ ...entry, position: 0 })).not.toMatch(/hunter2|password/i);
    });
  });

  it('a PATCH names the changed attributes; a PUT is prov:put', () => {
    const changed = (method: string) =>
      recorded(`account-${accountId}`, 1n, 'UserProfileUpdated', { accountId, identityId, scope, changes: [{ path: 'title', from: 'a', to: 'b' }] }, { request: { method, path: '/x' } });
    given([provisioned()]).when(changed('PATCH')).then(([entry]) => {
      expect(entry.notice).toEqual({ [ScimEventUri.patchNotice]: { attributes: ['title'], version: 'W/"1"' } });
      expect(entry.full[ScimEventUri.patchFull]).toMatchObject({ data: { Operations: [{ op: 'replace', path: 'title', value: 'b' }] } });
    });
    given([provisioned()]).when(changed('PUT')).then(([entry]) => {
      expect(Object.keys(entry.notice)).toEqual([ScimEventUri.putNotice]);
    });
  });

  it('active=false is the patch of that request together with prov:deactivate', () => {
    given([provisioned()])
      .when(recorded(`account-${accountId}`, 1n, 'IdentityDeactivated', { accountId, identityId, scope }, { request: { method: 'PATCH', path: '/x' } }))
      .then(([entry]) => {
        expect(entry.notice).toEqual({ [ScimEventUri.patchNotice]: { attributes: ['active'], version: 'W/"1"' }, [ScimEventUri.deactivate]: {} });
      });
  });

  it('DELETE is prov:delete; a re-POST of the deleted user is a create again', () => {
    const deleted = recorded(`account-${accountId}`, 1n, 'IdentityDeleted', { accountId, identityId, scope }, { request: { method: 'DELETE', path: '/x' } });
    given([provisioned()]).when(deleted).then(([entry]) => expect(entry.notice).toEqual({ [ScimEventUri.delete]: {} }));
    given([provisioned(), deleted])
      .when(recorded(`account-${accountId}`, 2n, 'IdentityReactivated', { accountId, identityId, scope }, { request: { method: 'POST', path: '/x' } }))
      .then(([entry]) => expect(Object.keys(entry.notice)).toEqual([ScimEventUri.createNotice]));
  });

  it('group member changes are a patch of the group naming members, versioned by log position', () => {
    const created = recorded('scimGroup-g-1', 0n, 'ScimGroupCreated', { groupId: 'g-1', scope, displayName: 'Eng' });
    const added = recorded(`account-${accountId}`, 1n, 'ScimGroupMembersAdded', { accountId, groupId: 'g-1', scope, members: [identityId] });
    given([provisioned(), created]).when(added).then(([entry]) => {
      expect(entry.subId).toEqual({ format: 'scim', uri: '/Groups/g-1' });
      expect(entry.notice).toEqual({ [ScimEventUri.patchNotice]: { attributes: ['members'], version: `W/"${added.position}"` } });
    });
  });

  it('a Bulk completion is one misc:asyncresp per operation with txn <txn>:<index>', () => {
    const done = recorded('async-request-t9', 1n, 'AsyncRequestCompleted', {
      txn: 't9',
      scope,
      operations: [
        { method: 'POST', status: '201', bulkId: 'b1', location: 'https://x/Users/u-9', version: 'W/"0"', response: null },
        { method: 'DELETE', status: '404', bulkId: null, location: null, version: null, response: { status: '404' } },
      ],
    });
    given([]).when(done).then((entries) => {
      expect(entries.map((x) => x.txn)).toEqual(['t9:0', 't9:1']);
      expect(entries[0].subId).toEqual({ format: 'scim', uri: '/Users/u-9' });
      expect(entries[1].notice[ScimEventUri.asyncResponse]).toMatchObject({ method: 'DELETE', status: '404', response: { status: '404' } });
    });
  });

  it('a misc:asyncresp names its resource as the other SETs of that resource do (externalId included)', () => {
    const done = recorded('async-request-t8', 1n, 'AsyncRequestCompleted', {
      txn: 't8',
      scope,
      operations: [{ method: 'POST', status: '201', bulkId: null, location: `https://x/Users/${identityId}`, version: 'W/"0"', response: null }],
    });
    given([provisioned()]).when(done).then(([entry]) => {
      expect(entry.subId).toEqual({ format: 'scim', uri: `/Users/${identityId}`, externalId: 'ext-1' });
      expect(entry.subject).toEqual({ resource: 'Users', id: identityId });
    });
  });

  it('replaying the same log yields the same entries', () => {
    const log = [provisioned(), recorded(`account-${accountId}`, 1n, 'IdentityDeactivated', { accountId, identityId, scope })];
    const run = () => {
      const out: FeedEntry[] = [];
      const g = given([]);
      for (const e of log) g.when(e).then((entries) => out.push(...entries));
      return out;
    };
    expect(run()).toEqual(run());
  });
});

describe('setClaimsFor: one entry, one stream', () => {
  const stream = { streamId: 's-1', issuer: 'https://scim.example/api/scim/v2/application', audience: 'https://rp.example', events: [ScimEventUri.createNotice, ScimEventUri.delete] };

  it('addresses the entry to the stream with a jti from stream and log position', () => {
    given([]).when(provisioned()).then(([entry]) => {
      expect(setClaimsFor(entry, stream)).toEqual({
        iss: stream.issuer,
        iat: entry.toe,
        jti: `s-1.${entry.position}.0`,
        aud: 'https://rp.example',
        txn: 'txn-1',
        toe: entry.toe,
        sub_id: entry.subId,
        events: { [ScimEventUri.createNotice]: entry.notice[ScimEventUri.createNotice] },
      });
    });
  });

  it('gives :full only to a stream that asked for it, and nothing for events it did not ask for', () => {
    given([]).when(provisioned()).then(([entry]) => {
      expect(Object.keys(setClaimsFor(entry, { ...stream, events: [ScimEventUri.createFull] })?.events as JsonObject)).toEqual([ScimEventUri.createFull]);
      expect(setClaimsFor(entry, { ...stream, events: [ScimEventUri.delete] })).toBeUndefined();
    });
  });
});
