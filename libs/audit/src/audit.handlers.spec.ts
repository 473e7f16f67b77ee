import type { AuditNames } from './audit-names.port';
import { randomUUID } from 'node:crypto';
import { type EventStore } from '@app/event-store';
import { openSqliteDatabase, SqliteEventStore, type SqliteDb } from '@app/event-store/adapters';
import { type CommandContext, eventMetadata, Forbidden } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { CSV_HEADER } from './audit-csv';
import { AUDIT_EXPORTS_STREAM } from './audit-exported';
import { ExportAuditLogHandler } from './audit.command-handlers';
import { ExportAuditLogCommand } from './audit.commands';
import { auditProjection } from './audit.projection';
import { AuditEventsHandler } from './audit.query-handlers';
import { AuditEventsQuery } from './audit.queries';
import { canonical } from './hash-chain';

const NOW = new Date('2026-05-01T12:00:00.000Z');
const ctx: CommandContext = { correlationId: 'req-1', commandId: 'cmd-1', actor: { kind: 'auditor', id: 'tok-a', tokenId: 'tok-a' } };

describe('audit handlers (real in-memory SQLite store and audit read model)', () => {
  let db: SqliteDb;
  let store: SqliteEventStore;
  let runner: ProjectionRunner;
  let ryw: ReadYourWrites;
  beforeEach(async () => {
    db = openSqliteDatabase({ filename: ':memory:' });
    store = new SqliteEventStore(db, { closeDatabase: false });
    runner = new ProjectionRunner(store, db, [auditProjection]);
    await runner.start();
    ryw = new ReadYourWrites(runner, 3000);
    for (let i = 0; i < 5; i++) {
      await store.append(
        `account-${randomUUID()}`,
        [{ id: randomUUID(), type: 'UserNameChanged', data: { identityId: `id-${i}`, from: `old${i}@corp.test`, to: `new${i}@corp.test` }, metadata: eventMetadata(ctx, 'application', NOW.toISOString()) }],
        'no_stream',
      );
    }
  });
  afterEach(async () => {
    await runner.stop();
    await store.close();
    db.close();
  });

  describe('AuditEventsHandler', () => {
    // The identifier history, as the application answers it: who ever held a value.
    const names: AuditNames = { scopeName: (s) => s, tokenName: () => undefined, accountOf: () => null, holdersOf: (v) => (v === 'old1@corp.test' ? ['id-1'] : []) };
    const events = (params: ConstructorParameters<typeof AuditEventsQuery>[0], pii = true) => new AuditEventsHandler(runner, ryw, names).execute(new AuditEventsQuery(params, pii));

    it('q finds a person by an identifier they held, for readers who may see personal data only', async () => {
      const found = await events({ q: 'old1@corp.test', until: '2999-01-01T00:00:00Z' });
      expect(found.records.map((r) => r.target.identityId ?? r.target.id)).toEqual(['id-1']);
      expect((await events({ q: 'old1@corp.test', until: '2999-01-01T00:00:00Z' }, false)).records).toEqual([]);
      // Ids and types stay searchable for everyone.
      expect((await events({ q: 'id-2', until: '2999-01-01T00:00:00Z' }, false)).records).toHaveLength(1);
    });

    it('pages with a cursor; a bounded query ends, a live feed always has a next page', async () => {
      const until = '2999-01-01T00:00:00Z';
      const first = await events({ limit: '2', until });
      expect(first.records.map((r) => r.position)).toEqual(['1', '2']);
      expect(first.next).toEqual({ after: 'cDoy' });
      const rest = await events({ limit: '4', until, after: first.next?.after });
      expect(rest.records.map((r) => r.position)).toEqual(['3', '4', '5']);
      expect(rest.next).toBeUndefined();
      // Without `until`: poll on from the last record, or from the cursor given when nothing is new.
      expect((await events({})).next).toEqual({ after: 'cDo1' });
      const caughtUp = await events({ after: 'cDo1' });
      expect(caughtUp).toEqual({ records: [], next: { after: 'cDo1' } });
      expect((await events({ sortOrder: 'descending', limit: '1', until })).records.map((r) => r.position)).toEqual(['5']);
    });

    it('masks personal values for a reader without pii, keeping ids and the chain fields', async () => {
      const [clear] = (await events({ limit: '1' })).records;
      const [masked] = (await events({ limit: '1' }, false)).records;
      expect(clear.changes).toEqual([{ path: 'userName', from: 'old0@corp.test', to: 'new0@corp.test' }]);
      expect(masked).toEqual({ ...clear, changes: [{ path: 'userName', from: '***', to: '***' }], data: { identityId: 'id-0', from: '***', to: '***' } });
    });

    it('refuses a bad limit or cursor before reading', async () => {
      await expect(events({ limit: '0' })).rejects.toThrow('limit must be an integer from 1 to 1000');
      await expect(events({ after: 'nope' })).rejects.toThrow('after is not a cursor this server issued');
    });
  });

  describe('ExportAuditLogHandler', () => {
    const exporter = (s: EventStore = store) => new ExportAuditLogHandler(runner, ryw, s, { now: () => NOW });
    const text = async (chunks: AsyncIterable<string>) => {
      let out = '';
      for await (const c of chunks) out += c;
      return out;
    };
    const exported = async () => (await store.readStream(AUDIT_EXPORTS_STREAM).catch(() => [])).map((e) => ({ data: e.data, metadata: e.metadata }));

    it('refuses a reader without pii and records nothing', async () => {
      await expect(exporter().execute(new ExportAuditLogCommand({}, false, ctx))).rejects.toThrow(Forbidden);
      await expect(exporter().execute(new ExportAuditLogCommand({ format: 'xml' }, true, ctx))).rejects.toThrow('format must be ndjson or csv');
      expect(await exported()).toEqual([]);
    });

    it('streams the range as canonical NDJSON and records who exported what', async () => {
      const file = await exporter().execute(new ExportAuditLogCommand({ fromPosition: '2', toPosition: '4' }, true, ctx));
      expect(file.format).toBe('ndjson');
      const lines = (await text(file.chunks)).trimEnd().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { position: string }).position)).toEqual(['2', '3', '4']);
      expect(lines.every((l) => l === canonical(JSON.parse(l)))).toBe(true);
      expect(await exported()).toEqual([
        { data: { format: 'ndjson', since: null, until: null, fromPosition: 2, toPosition: 4 }, metadata: eventMetadata(ctx, 'instance', NOW.toISOString()) },
      ]);
    });

    it('CSV starts with its header', async () => {
      const file = await exporter().execute(new ExportAuditLogCommand({ format: 'CSV', since: '2026-01-01T00:00:00Z' }, true, ctx));
      expect(file.format).toBe('csv');
      const rows = (await text(file.chunks)).trimEnd().split('\n');
      expect(rows[0]).toBe(CSV_HEADER);
      expect(rows).toHaveLength(6);
      expect((await exported())[0].data).toEqual({ format: 'csv', since: '2026-01-01T00:00:00Z', until: null, fromPosition: 1, toPosition: 5 });
    });
  });
});
