// Grows ours' log to N audited events for the audit-query phase, in minutes rather than the
// hours N requests would take: it clones real account streams (users the preload created and
// the phases then PATCHed and PUT) into new accounts, straight into the embedded store through
// the project's own libraries (dist/libs/event-store, and dist/libs/privacy so that templates
// are read opened and each clone is sealed under a data key of its own, exactly as the server
// writes them), while the server is stopped.
// Every UUID of a cloned stream's data (account id, identity id) is replaced by a fresh one,
// userName, email and externalId get a new unique value, and correlation/causation ids are
// new; metadata (actor, request) is kept. Reservation streams (`unique-…`, not audited) are
// not cloned. The server then projects the grown log when it starts, as after a restore.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const isAudited = (streamId) => !streamId.startsWith('unique-') && !streamId.startsWith('auditCheckpoints-');
const jsonSafe = (v) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));

/**
 * templateUser(userName) says whether the account provisioned with that userName may be
 * cloned (the caller excludes users that joined groups: memberships would point at groups).
 */
export async function seedAuditLog({ root, dataDir, target, templateUser, log }) {
  const require = createRequire(join(root, 'package.json'));
  const es = require(join(root, 'dist/libs/event-store/src/adapters.js'));
  const privacy = require(join(root, 'dist/libs/privacy/src/index.js'));
  const Database = require('better-sqlite3');
  const db = es.openSqliteDatabase({ filename: join(dataDir, 'scim.db') });
  const raw = await es.createEventStore({ kind: 'sqlite', db });
  const keyTable = new privacy.SqliteKeyTable(new Database(join(dataDir, 'data-keys.db')));
  const master = privacy.loadMasterKey(dataDir);
  const store = new privacy.SealingEventStore(
    raw,
    new privacy.PersonalDataSealer(new privacy.DataKeyStore(keyTable, master.current, master.previous)),
  );
  try {
    const started = Date.now();
    // 1. Scan the log: count what is audited, keep the whole history of a few hundred accounts.
    const templates = new Map();
    let audited = 0;
    let total = 0;
    let position = -1n;
    for (;;) {
      const page = (
        await store.readAll({ ...(position >= 0n ? { fromPosition: position } : {}), maxCount: 10_000 })
      ).filter((e) => e.position > position);
      if (page.length === 0) break;
      for (const e of page) {
        total++;
        if (isAudited(e.streamId)) audited++;
        if (!e.streamId.startsWith('account-')) continue;
        const t = templates.get(e.streamId);
        if (t) t.push(e);
        else if (
          e.revision === 0n &&
          e.type === 'UserProvisioned' &&
          templates.size < 400 &&
          templateUser(String(e.data?.userName ?? ''))
        )
          templates.set(e.streamId, [e]);
      }
      position = page[page.length - 1].position;
    }
    if (templates.size === 0) throw new Error('no account stream of a preloaded user to clone in the log');
    const need = target - audited;
    log(
      `  audit seed: the log holds ${total} events (${audited} audited); cloning ${Math.max(need, 0)} more from ${templates.size} accounts`,
    );

    // 2. Clone until the log holds `target` audited events.
    const shapes = [...templates.values()].map((events) => {
      const ids = new Set([events[0].streamId.slice('account-'.length)]);
      for (const e of events) for (const m of JSON.stringify(e.data).match(UUID) ?? []) ids.add(m);
      return {
        ids: [...ids],
        events: events.map((e) => ({
          type: e.type,
          text: JSON.stringify({ data: e.data, metadata: jsonSafe(e.metadata) }),
        })),
      };
    });
    const targets = [];
    let appended = 0;
    let clone = 0;
    let batch = [];
    const flush = async () => {
      if (batch.length) await store.appendMulti(batch);
      batch = [];
    };
    const every = Math.max(1, Math.floor(Math.max(need, 1) / 2.5 / 2000));
    let lastNote = Date.now();
    while (appended < need) {
      const shape = shapes[clone % shapes.length];
      const map = new Map(shape.ids.map((id) => [id, randomUUID()]));
      const n = String(clone).padStart(7, '0');
      const accountId = map.get(shape.ids[0]);
      const events = shape.events.map(({ type, text }) => {
        const cloned = JSON.parse(
          text
            .replace(UUID, (m) => map.get(m) ?? m)
            .replace(/bench\.user\.\d{7}/g, `audit.user.${n}`)
            .replace(/bench-ext-\d+/g, `audit-ext-${clone}`),
        );
        return {
          id: randomUUID(),
          type,
          data: cloned.data,
          metadata: { ...cloned.metadata, $correlationId: randomUUID(), $causationId: randomUUID() },
        };
      });
      batch.push({ streamId: `account-${accountId}`, expectedRevision: 'no_stream', events });
      if (clone % every === 0) targets.push({ id: accountId, events: events.length });
      appended += events.length;
      clone++;
      if (batch.length >= 500) await flush();
      if (Date.now() - lastNote > 10_000) {
        lastNote = Date.now();
        log(`  audit seed: ${appended}/${need} events`);
      }
    }
    await flush();
    if (targets.length === 0)
      for (const [streamId, events] of templates)
        targets.push({ id: streamId.slice('account-'.length), events: events.length });
    const seconds = (Date.now() - started) / 1000;
    log(`  audit seed: appended ${appended} events (${clone} accounts) in ${seconds.toFixed(1)} s`);
    return {
      targets,
      auditedEvents: audited + Math.max(appended, 0),
      logEvents: total + appended,
      clonedEvents: appended,
      seedSeconds: seconds,
    };
  } finally {
    await store.close();
    await keyTable.close();
    if (db.open) db.close();
  }
}
