import { randomUUID } from 'node:crypto';
import { LogImportConflictError } from './errors';
import type { EventData } from './event-store.port';
import { copyLog } from './log-copy';
import { PostgresEventStore } from './postgres/postgres-event-store';
import { openSqliteDatabase } from './sqlite/sqlite-database';
import { SqliteEventStore } from './sqlite/sqlite-event-store';
import { createTestDatabase, postgresUnavailableReason, type TestDatabase } from './testing/postgres-test-database';

const unavailable = postgresUnavailableReason();
const ev = (type: string, data: EventData['data'] = {}, metadata: EventData['metadata'] = {}): EventData => ({ id: randomUUID(), type, data, metadata });

if (unavailable !== undefined) {
  console.warn(`Log copy to PostgreSQL skipped: ${unavailable}`);
  describe('copyLog (SQLite → PostgreSQL)', () => {
    it.skip(`skipped: ${unavailable}`, () => undefined);
  });
} else {
  describe('copyLog (SQLite → PostgreSQL)', () => {
    let db: TestDatabase;
    let source: SqliteEventStore;
    let target: PostgresEventStore;
    beforeEach(async () => {
      db = await createTestDatabase();
      source = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
      target = new PostgresEventStore(db.url);
      await target.migrate();
    });
    afterEach(async () => {
      await source.close();
      await target.close();
      await db.drop();
    });

    /** Interleaved streams, multi-stream appends, key order and nesting in the data. */
    async function populate(): Promise<void> {
      await source.appendMulti([
        { streamId: 'user-1', events: [ev('Created', { z: 1, a: { y: [1, 'two', null], b: true } }, { occurredAt: '2026-01-01T00:00:00Z' })], expectedRevision: 'no_stream' },
        { streamId: 'unique-email-a', events: [ev('Claimed', { owner: 'user-1' })], expectedRevision: 'no_stream' },
      ]);
      await source.append('group-1', [ev('GroupCreated', { name: 'g' })], 'no_stream');
      await source.append('user-1', [ev('Renamed', { to: 'x' }), ev('Disabled')], 0n);
      await source.append('group-1', [ev('MemberAdded', { user: 'user-1' })], 0n);
    }

    it('keeps ids, types, data, metadata, revisions, positions and recorded times, and later appends go after them', async () => {
      await populate();
      const copied = await copyLog(source, target, { batchSize: 2 });
      const before = await source.readAll();
      expect(copied).toEqual({ events: 6, inserted: 6, head: before[5].position });
      const after = await target.readAll();
      expect(after).toEqual(before);
      expect(after.map((e) => JSON.stringify(e.data))).toEqual(before.map((e) => JSON.stringify(e.data)));
      expect(await target.headPosition()).toBe(before[5].position);
      const next = await target.append('user-1', [ev('Enabled')], 2n);
      expect(next.position).toBeGreaterThan(before[5].position);
      expect(next.nextExpectedRevision).toBe(3n);
    });

    it('is idempotent: a second run inserts nothing, and a run after the source grew copies only the new events', async () => {
      await populate();
      await copyLog(source, target, { batchSize: 3 });
      expect(await copyLog(source, target, { batchSize: 2 })).toMatchObject({ events: 6, inserted: 0 });
      await source.append('user-2', [ev('Created')], 'no_stream');
      expect(await copyLog(source, target)).toMatchObject({ events: 7, inserted: 1 });
      expect(await target.readAll()).toEqual(await source.readAll());
    });

    it('refuses a target that holds other events (a server already wrote to it), and changes nothing', async () => {
      await populate();
      await target.append('auditSigningKeys', [ev('AuditSigningKeyPublished')], 'any');
      const held = await target.readAll();
      await expect(copyLog(source, target)).rejects.toBeInstanceOf(LogImportConflictError);
      expect(await target.readAll()).toEqual(held);
    });

    it('refuses a target that holds a copy of another log', async () => {
      await populate();
      await copyLog(source, target);
      const other = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
      try {
        // Another log of the same length: same positions, other events.
        for (const e of await source.readAll()) await other.append(`other-${e.position}`, [ev(e.type)], 'no_stream');
        await expect(copyLog(other, target)).rejects.toThrow(/position 1\b.*empty or an earlier copy/);
      } finally {
        await other.close();
      }
    });
  });
}
