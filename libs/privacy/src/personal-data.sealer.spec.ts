import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { EventData, RecordedEvent } from '@app/event-store';
import { DataKeyStore } from './data-key-store';
import { masterKeyOf } from './master-key';
import { PersonalDataSealer } from './personal-data.sealer';
import { SqliteKeyTable } from './sqlite-key-table';

const provisioned: EventData = {
  id: 'e1',
  type: 'UserProvisioned',
  data: {
    accountId: 'acc',
    username: 'jdoe',
    email: 'jane.doe@example.com',
    identityId: 'idn',
    scope: 'instance',
    userName: 'Jane.Doe@example.com',
    samlNameId: 'Jane.Doe@example.com',
    attributes: { userName: 'Jane.Doe@example.com', name: { givenName: 'Jane' } },
    active: true,
  },
};
const updated: EventData = {
  id: 'e2',
  type: 'UserProfileUpdated',
  data: { accountId: 'acc', identityId: 'idn', scope: 'instance', changes: [{ path: 'name', from: { givenName: 'Jane' }, to: { givenName: 'Janet' } }] },
};
const recorded = (e: EventData, i: number): RecordedEvent => ({ ...e, streamId: 'account-acc', revision: BigInt(i), position: BigInt(i), metadata: {}, recordedAt: new Date(0) });

describe('PersonalDataSealer', () => {
  const setup = () => new PersonalDataSealer(new DataKeyStore(new SqliteKeyTable(new Database(':memory:')), masterKeyOf(randomBytes(32))));

  it('stores no personal value in the clear and opens every one back', async () => {
    const sealer = setup();
    const stored = await sealer.seal('account-acc', [provisioned, updated]);
    const text = JSON.stringify(stored);
    for (const plain of ['jdoe', 'Jane', 'example.com', 'Janet']) expect(text).not.toContain(plain);
    // Ids, scopes, flags and the diff's paths stay clear.
    expect(stored[0].data).toMatchObject({ accountId: 'acc', identityId: 'idn', scope: 'instance', active: true });
    expect((stored[1].data.changes as { path: string }[])[0].path).toBe('name');
    // Another process (nothing remembered from sealing) decrypts them.
    const opened = stored.map((e, i) => new PersonalDataSealer(sealer.keys).open(recorded(e, i)));
    expect(opened.map((o) => o.state)).toEqual(['live', 'live']);
    expect(opened[0].event.data).toEqual(provisioned.data);
    expect(opened[1].event.data).toEqual(updated.data);
  });

  it('after the key is destroyed, values read [erased] and keep their shape', async () => {
    const sealer = setup();
    const stored = (await sealer.seal('account-acc', [provisioned, updated])).map(recorded);
    await sealer.keys.erase('acc');
    const [p, u] = stored.map((e) => new PersonalDataSealer(sealer.keys).open(e));
    expect(p.state).toBe('erased');
    expect(p.event.data).toMatchObject({ accountId: 'acc', userName: '[erased]', email: '[erased]', attributes: {} });
    expect(u.event.data.changes).toEqual([{ path: 'name', from: '[erased]', to: '[erased]' }]);
  });

  it("an asynchronous request's body is sealed under the request's own key, destroyed once its outcome is stored", async () => {
    const sealer = setup();
    const stream = 'async-request-t1';
    const accepted: EventData = {
      id: 'a1',
      type: 'AsyncRequestAccepted',
      data: { txn: 't1', scope: 'instance', tokenId: 'tok', method: 'POST', path: '/Users', bulk: false, url: '/api/scim/v2/application/Users', body: { userName: 'jane.doe@example.com' }, ifMatch: null, userAgent: null, tokenSha256Prefix: 'ab', acceptedBy: 'i1' },
    };
    const completed: EventData = { id: 'a2', type: 'AsyncRequestCompleted', data: { txn: 't1', scope: 'instance', operations: [{ method: 'POST', status: '201', bulkId: null, location: '/Users/x', version: 'W/"0"', response: null }] } };
    const [storedAccepted] = await sealer.seal(stream, [accepted]);
    expect(JSON.stringify(storedAccepted)).not.toContain('jane.doe');
    const at = (e: EventData, i: number): RecordedEvent => ({ ...recorded(e, i), streamId: stream });
    expect(new PersonalDataSealer(sealer.keys).open(at(storedAccepted, 0)).event.data.body).toEqual({ userName: 'jane.doe@example.com' });
    const [storedCompleted] = await sealer.seal(stream, [completed]);
    expect(storedCompleted.data).toEqual(completed.data);
    await sealer.afterAppend(stream, [completed]);
    const later = new PersonalDataSealer(sealer.keys);
    expect(later.open(at(storedAccepted, 0))).toMatchObject({ state: 'erased', event: { data: { body: {}, txn: 't1', method: 'POST' } } });
    expect(later.open(at(storedCompleted, 1)).event.data).toEqual(completed.data);
  });

  it('a sealed blob moved to another event does not open', async () => {
    const sealer = setup();
    const [a, b] = await sealer.seal('account-acc', [provisioned, { ...provisioned, id: 'e9' }]);
    const swapped = recorded({ ...b, data: { ...b.data, $pii: a.data.$pii } }, 1);
    expect(() => new PersonalDataSealer(sealer.keys).open(swapped)).toThrow();
  });

  it('leaves other streams and plaintext events of a log written before sealing as they are', async () => {
    const sealer = setup();
    const group: EventData = { id: 'g', type: 'ScimGroupCreated', data: { groupId: 'g', scope: 'instance', displayName: 'Ops' } };
    expect(await sealer.seal('scimGroup-g', [group])).toEqual([group]);
    expect(sealer.open(recorded(provisioned, 0))).toMatchObject({ state: 'live', event: { data: provisioned.data } });
  });

  it('seals every non-id field of an account event type it does not know', async () => {
    const sealer = setup();
    const [stored] = await sealer.seal('account-acc', [{ id: 'x', type: 'SomethingNew', data: { accountId: 'acc', nickname: 'JJ' } }]);
    expect(stored.data.accountId).toBe('acc');
    expect(String(stored.data.nickname)).toMatch(/^pii:v1:/);
  });
});

describe('PersonalDataSealer.holdsPlaintext', () => {
  it('finds personal values a log from before sealing stored in the clear', async () => {
    const sealer = new PersonalDataSealer(new DataKeyStore(new SqliteKeyTable(new Database(':memory:')), masterKeyOf(randomBytes(32))));
    expect(sealer.holdsPlaintext(recorded(provisioned, 0))).toBe(true);
    expect(sealer.holdsPlaintext(recorded(updated, 1))).toBe(true);
    const sealed = await sealer.seal('account-acc', [provisioned, updated]);
    expect(sealed.map((e, i) => sealer.holdsPlaintext(recorded(e, i)))).toEqual([false, false]);
  });
});
