import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { eventStoreContract } from '../testing/event-store.contract';
import { openSqliteDatabase } from './sqlite-database';
import { SqliteEventStore } from './sqlite-event-store';

eventStoreContract('SQLite', async () => {
  const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
  return { store, cleanup: () => store.close() };
});

describe('SQLite event store on disk', () => {
  it('keeps events, revisions and positions across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-'));
    const file = join(dir, 'events.db');
    const first = new SqliteEventStore(openSqliteDatabase({ filename: file, synchronous: 'FULL' }));
    const r = await first.append('s-1', [{ id: randomUUID(), type: 'A', data: { a: 1 } }], 'no_stream');
    await first.close();
    const second = new SqliteEventStore(openSqliteDatabase({ filename: file }));
    const [e] = await second.readStream('s-1');
    expect(e).toMatchObject({ revision: 0n, position: r.position, data: { a: 1 } });
    const next = await second.append('s-2', [{ id: randomUUID(), type: 'B', data: {} }], 'no_stream');
    expect(next.position).toBeGreaterThan(r.position);
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
