import { randomUUID } from 'node:crypto';
import { type EventStore, type RecordedEvent } from '@app/event-store';
import { openSqliteDatabase, SqliteEventStore, type SqliteDb } from '@app/event-store/adapters';
import { auditProjection } from '@app/audit';
import { type AccountCommand, AccountWriter, type Actor, type CommandContext, eventMetadata, type GroupInfo, type IdentityDirectory } from '@app/identity';
import { ProjectionRunner, ReadYourWrites, trackWrites } from '@app/projections';
import { identifierHistoryProjection } from '../identifier-history.projection';
import { SupportReadRecorder } from '../support-read.recorder';

export const NOW = new Date('2026-05-01T12:00:00.000Z');

export function contextOf(kind: Actor['kind'], reason?: string): CommandContext {
  return { correlationId: randomUUID(), commandId: randomUUID(), actor: { kind, id: `${kind}-token`, tokenId: `${kind}-token` }, ...(reason ? { reason } : {}) };
}

/**
 * The support lib's collaborators as the server wires them, over a real in-memory SQLite store:
 * the identifier-history and audit read models applied inline, read-your-writes, the account
 * writer. Only the group look-up is a stand-in (`groups`).
 */
export class SupportTestKit {
  readonly db: SqliteDb;
  readonly raw: SqliteEventStore;
  readonly store: EventStore;
  readonly runner: ProjectionRunner;
  readonly ryw: ReadYourWrites;
  readonly writer: AccountWriter;
  readonly reads: SupportReadRecorder;
  readonly clock = { now: () => NOW };
  readonly groups = new Map<string, GroupInfo>();
  readonly directory = { groupByPath: async (path: string) => this.groups.get(path) } as unknown as IdentityDirectory;

  constructor() {
    this.db = openSqliteDatabase({ filename: ':memory:' });
    this.raw = new SqliteEventStore(this.db, { closeDatabase: false });
    this.runner = new ProjectionRunner(this.raw, this.db, [identifierHistoryProjection, auditProjection]);
    this.ryw = new ReadYourWrites(this.runner, 3000);
    this.store = trackWrites(this.raw, (p) => this.ryw.wrote(p));
    this.writer = new AccountWriter(this.store, this.clock);
    this.reads = new SupportReadRecorder(this.store, this.clock);
  }

  static async start(): Promise<SupportTestKit> {
    const kit = new SupportTestKit();
    await kit.runner.start();
    return kit;
  }

  async stop(): Promise<void> {
    await this.runner.stop();
    await this.raw.close();
    this.db.close();
  }

  /** A user provisioned in the application scope, as the SCIM POST would. */
  async provision(p: { accountId?: string; identityId?: string; userName: string; externalId?: string }): Promise<{ accountId: string; identityId: string }> {
    const accountId = p.accountId ?? randomUUID();
    const identityId = p.identityId ?? randomUUID();
    const attributes = { userName: p.userName, ...(p.externalId ? { externalId: p.externalId } : {}), emails: [{ value: p.userName, primary: true }] };
    await this.write(accountId, { type: 'ProvisionUser', accountId, identityId, scope: 'application', username: p.userName.split('@')[0], attributes, active: true, reprovision: {} });
    return { accountId, identityId };
  }

  /** Runs an account command at the kit's clock time, as a handler would. */
  async write(accountId: string, command: Untimed<AccountCommand>, ctx = contextOf('scim_token')): Promise<void> {
    const loaded = await this.writer.repository.load(accountId);
    await this.writer.execute({ accountId, loaded, command: { ...command, now: this.writer.now() } as AccountCommand, ctx, scope: 'application' });
    await this.ryw.settle();
  }

  /** A refused SCIM request about `targetId`, recorded as the server's rejection recorder does. */
  async reject(targetId: string, status = 409, reason = 'uniqueness'): Promise<void> {
    await this.store.append(
      'provisioningRejections-application',
      [{ id: randomUUID(), type: 'ProvisioningRejected', data: { scope: 'application', status, reason, method: 'PUT', resource: 'Users', targetId }, metadata: eventMetadata(contextOf('scim_token'), 'application', NOW.toISOString()) }],
      'any',
    );
    await this.ryw.settle();
  }

  async streamOf(streamId: string): Promise<RecordedEvent[]> {
    return this.raw.readStream(streamId).catch(() => []);
  }

  async head(): Promise<bigint> {
    return this.raw.headPosition();
  }
}

/** A command as a test states it; the kit adds the time. */
export type Untimed<C> = C extends unknown ? Omit<C, 'now'> : never;
