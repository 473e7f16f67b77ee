import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeOrderedId } from '@app/event-store';
import { openSqliteDatabase, SqliteEventStore } from '@app/event-store/adapters';
import { ADMIN_TOKEN, TestServer } from './support/test-server';

const EVENTS = 30_000;

/**
 * Audit verification and export read the whole log: they must give the event loop back
 * between pages, so that other requests are answered meanwhile instead of after. The log is
 * seeded straight into the store before the server starts (30,000 events in seconds).
 */
describe('long audit work does not hold the event loop', () => {
  let server: TestServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-loop-'));
    const db = openSqliteDatabase({ filename: join(dir, 'scim.db') });
    const store = new SqliteEventStore(db, { closeDatabase: false });
    for (let i = 0; i < EVENTS; i += 500) {
      await store.append(
        `account-${randomUUID()}`,
        Array.from({ length: 500 }, (_, j) => ({
          id: timeOrderedId(),
          type: 'AccountNoteAdded',
          data: { note: `seeded ${i + j}`, padding: 'x'.repeat(200) },
          metadata: { scope: 'application', occurredAt: new Date().toISOString() },
        })),
        'no_stream',
      );
    }
    await store.close();
    db.close();
    server = await TestServer.start({ AUDIT_CHECKPOINT_INTERVAL_MS: '0' }, dir);
  }, 120_000);
  afterAll(() => server.stop());

  it.each([
    ['GET', '/api/v1/audit/verification'],
    ['GET', '/api/v1/audit/export?format=ndjson'],
    ['GET', '/api/v1/audit/export?format=csv'],
    ['POST', '/api/v1/audit/exports'],
  ])('%s %s: /health/live answers while it runs', async (method, path) => {
    let done = false;
    const long = server.http(method, path, { token: ADMIN_TOKEN, ...(method === 'POST' ? { body: {} } : {}) }).then((r) => {
      done = true;
      return r;
    });
    let answered = 0;
    while (!done) {
      const health = await server.http('GET', '/health/live');
      if (health.status === 200 && !done) answered++;
    }
    const r = await long;
    expect(r.status).toBe(method === 'POST' ? 201 : 200);
    expect(answered).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
