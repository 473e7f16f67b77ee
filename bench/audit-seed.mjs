// Writes a synthetic but realistic log straight into a fresh embedded store, for the
// audit-query phase: N events spread over accounts (provisioning, profile updates,
// deactivations), so a query by target has to find a few events among N.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

export async function seedAuditLog(distDir, dataDir, total, progress) {
  const { openSqliteDatabase } = await import(join(distDir, 'libs/event-store/src/sqlite/sqlite-database.js'));
  const { SqliteEventStore } = await import(join(distDir, 'libs/event-store/src/sqlite/sqlite-event-store.js'));
  const db = openSqliteDatabase({ filename: join(dataDir, 'scim.db') });
  const store = new SqliteEventStore(db);
  const perAccount = 10;
  const accounts = Math.ceil(total / perAccount);
  const targets = [];
  const started = Date.now();
  for (let a = 0; a < accounts; a++) {
    const accountId = randomUUID();
    const identityId = randomUUID();
    if (a % 997 === 0) targets.push(accountId);
    const meta = { $correlationId: randomUUID(), $causationId: randomUUID(), scope: 'application', actor: { kind: 'scim_token', id: 't', tokenId: 't' }, occurredAt: new Date().toISOString(), schemaVersion: 1 };
    const userName = `seed${a}@example.com`;
    const events = [{ id: randomUUID(), type: 'UserProvisioned', data: { accountId, username: `seed${a}`, identityId, scope: 'application', userName, samlNameId: userName, attributes: { userName }, active: true }, metadata: meta }];
    for (let i = 1; i < perAccount; i++) {
      events.push({ id: randomUUID(), type: 'UserProfileUpdated', data: { accountId, identityId, scope: 'application', changes: [{ path: 'title', from: `t${i - 1}`, to: `t${i}` }] }, metadata: meta });
    }
    store.appendMultiSync([{ streamId: `account-${accountId}`, expectedRevision: 'no_stream', events }]);
    if (a % 10000 === 0 && a > 0) progress(`  seeded ${a * perAccount}/${total} events`);
  }
  progress(`  seeded ${accounts * perAccount} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await store.close();
  return targets;
}
