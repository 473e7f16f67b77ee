import { openSqliteDatabase } from '@app/event-store/adapters';
import { SqliteEventStore } from '@app/event-store/adapters';
import { AccountWriter } from './account-writer';
import { AccountRepository } from './account.repository';
import { initialState } from './account.state';
import { systemContext } from './event-envelope';
import { accountStream } from './events';

const ACC = 'acc-1';
const NOW = '2026-03-04T05:06:07.000Z';
// The writer's own clock reads another time: the events must happen at the command's `now`.
const CLOCK = new Date('2030-01-01T00:00:00.000Z');

describe('AccountWriter', () => {
  const setup = () => {
    const db = openSqliteDatabase({ filename: ':memory:' });
    const store = new SqliteEventStore(db);
    return { db, store, writer: new AccountWriter(store, { now: () => CLOCK }) };
  };
  const provision = {
    type: 'ProvisionUser',
    now: NOW,
    accountId: ACC,
    identityId: 'id-1',
    scope: 'application',
    username: 'ada',
    attributes: { userName: 'ada@example.com' },
    active: true,
    reprovision: {},
  } as const;
  const ctx = systemContext('corr-1', 'cmd-1');

  it('stores exactly the data the decider decided, with its time in the metadata, and loads back the same state', async () => {
    const { db, store, writer } = setup();
    const result = await writer.execute({ accountId: ACC, loaded: { state: { ...initialState(), id: ACC }, revision: -1n }, command: provision, ctx, scope: 'application' });
    expect(result.events.map((e) => e.occurredAt)).toEqual([NOW]);

    const raw = db.prepare('SELECT type, data, metadata FROM events WHERE stream_id = ?').all(accountStream(ACC)) as { type: string; data: string; metadata: string }[];
    expect(raw.map((r) => r.type)).toEqual(['UserProvisioned']);
    expect(raw[0].data).toBe(JSON.stringify(result.events[0].data));
    expect(JSON.parse(raw[0].metadata)).toMatchObject({ occurredAt: NOW, $causationId: 'cmd-1', scope: 'application' });

    const loaded = await new AccountRepository(store).load(ACC);
    expect(loaded).toStrictEqual({ state: result.state, revision: 0n });
    expect(loaded.state.identities['id-1']).toMatchObject({ created: NOW, lastModified: NOW });
    db.close();
  });

  it('a decision without events appends nothing', async () => {
    const { db, writer } = setup();
    await writer.execute({ accountId: ACC, loaded: { state: { ...initialState(), id: ACC }, revision: -1n }, command: provision, ctx, scope: 'application' });
    const loaded = await writer.repository.load(ACC);
    const same = { type: 'UpdateIdentity', now: NOW, identityId: 'id-1', attributes: { userName: 'ada@example.com' }, deprovision: { hierarchyGroupIds: [], soleOwnerGroupIds: [] }, reprovision: {} } as const;
    const result = await writer.execute({ accountId: ACC, loaded, command: same, ctx, scope: 'application' });
    expect(result).toMatchObject({ events: [], revision: 0n, position: -1n });
    db.close();
  });
});
