import { randomUUID } from 'node:crypto';
import { type EventStore, type RecordedEvent } from '@app/event-store';
import { createEventStore, openSqliteDatabase, type SqliteDb } from '@app/event-store/adapters';
import { type Projection, ProjectionRunner } from '@app/projections';
import { type AuditHandle, auditProjection } from './audit.projection';

/** A read model that throws on the events it is told to, to roll an inline batch back. */
function flaky(failOn: { type?: string }): Projection {
  return {
    name: 'flaky',
    version: 1,
    tables: [],
    create: () => undefined,
    open: () => ({
      apply(e: RecordedEvent) {
        if (e.type === failOn.type) throw new Error('flaky projection');
      },
    }),
  };
}

describe('audit projection', () => {
  let db: SqliteDb;
  let store: EventStore;
  let runner: ProjectionRunner | undefined;
  beforeEach(async () => {
    db = openSqliteDatabase({ filename: ':memory:' });
    store = await createEventStore({ kind: 'sqlite', db });
  });
  afterEach(async () => {
    // Stopped here, not at the end of the test, so a failing expectation cannot leave it running.
    await runner?.stop();
    await store.close();
    db.close();
  });

  const append = (scope: string, type: string) =>
    store.append(
      `account-${randomUUID()}`,
      [
        {
          id: randomUUID(),
          type,
          data: { n: 1 },
          metadata: { scope, occurredAt: '2026-01-01T00:00:00.000Z' },
        },
      ],
      'no_stream',
    );

  it('chains the same hashes when a batch it applied inline is rolled back and applied again', async () => {
    const failOn: { type?: string } = {};
    // The flaky projection runs after the audit one, so its throw undoes what audit wrote.
    runner = new ProjectionRunner(store, db, [auditProjection, flaky(failOn)]);
    await runner.start();
    for (let i = 0; i < 5; i++) await append(i % 2 ? 'instance' : 'group:g', 'UserProvisioned');
    failOn.type = 'Boom';
    await Promise.all([
      append('instance', 'Boom'),
      append('group:g', 'UserProfileUpdated'),
      append('instance', 'UserProfileUpdated'),
    ]);
    failOn.type = undefined;
    expect(await runner.waitFor(await store.headPosition(), 3000)).toBe(true);
    for (let i = 0; i < 3; i++) await append('instance', 'IdentityDeactivated');
    const live = runner.handle<AuditHandle>('audit').heads();
    expect(live.map((h) => h.count).reduce((a, b) => a + b, 0)).toBe(11);
    await runner.rebuild('audit');
    expect(runner.handle<AuditHandle>('audit').heads()).toEqual(live);
  });
});
