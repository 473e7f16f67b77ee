import { randomUUID } from 'node:crypto';
import { openSqliteDatabase } from './sqlite-database';
import { SqliteEventStore } from './sqlite-event-store';
it('appends and reads', async () => {
  const s = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
  const r = await s.append('a-1', [{ id: randomUUID(), type: 'X', data: { a: 1 } }], 'no_stream');
  expect(r.nextExpectedRevision).toBe(0n);
  const ev = await s.readStream('a-1');
  expect(ev[0].data).toEqual({ a: 1 });
  const sub = s.subscribeToAll({ filter: { eventTypes: ['X'] } });
  const it = sub[Symbol.asyncIterator]();
  expect((await it.next()).value.kind).toBe('event');
});
