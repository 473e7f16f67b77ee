import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { IssueManagementTokenCommand, type TokensHandle } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { type EventStore, LEADER_LEASE, type LeaderLease } from '@app/event-store';
import { type SqliteDb, type WalCheckpointer } from '@app/event-store/adapters';
import { systemContext } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import { randomUUID } from 'node:crypto';
import { ScanPool } from '@app/read-models';
import { RAW_EVENT_STORE, SQLITE_DB, WAL_CHECKPOINTER } from './tokens';

/**
 * Starts the projections before the server takes requests, creates the first admin token
 * when none is configured, and on shutdown stops the projections at a checkpoint before
 * the store closes.
 */
@Injectable()
export class LifecycleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('lifecycle');
  /** Set once, on the first start without ADMIN_TOKEN. */
  generatedAdminToken?: string;
  private stopping = false;
  private projectionsStarted = false;
  private listening = false;
  private announce?: (secret: string) => void;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RAW_EVENT_STORE) private readonly store: EventStore,
    @Inject(SQLITE_DB) private readonly db: SqliteDb,
    @Inject(WAL_CHECKPOINTER) private readonly checkpointer: WalCheckpointer | null,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly commands: CommandBus,
    @Inject(LEADER_LEASE) private readonly lease: LeaderLease,
    private readonly scans: ScanPool,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.eventStore === 'sqlite') {
      await this.startProjections();
      return;
    }
    // A remote store may be down: serve at once (503s, readiness false) and keep trying,
    // so the server recovers by itself when the store comes back.
    void this.retryStart();
  }

  private async retryStart(delay = 500): Promise<void> {
    if (this.stopping) return;
    try {
      await this.startProjections();
    } catch (err) {
      this.logger.warn(`event store not reachable, retrying: ${(err as Error).message}`);
      this.retryTimer = setTimeout(() => void this.retryStart(Math.min(delay * 2, 10_000)), delay);
    }
  }

  private async startProjections(): Promise<void> {
    // The runner reports each projection it builds from the log (one shared pass): one line per report.
    let reported: string | undefined;
    await this.runner.start((p) => {
      const line = p.events === 0 && !p.done ? `building ${p.projection} from the log` : `projecting the log: ${p.position}/${p.head}, ${p.events} events (${p.eventsPerSecond} events/s)${p.done ? ', caught up' : ''}`;
      if (line !== reported) this.logger.log(line);
      reported = line;
    });
    await this.runner.waitFor(await this.store.headPosition(), 30_000);
    this.projectionsStarted = true;
    // A remote store that came up after the server started listening: issue (and show) it now.
    if (this.listening) {
      const secret = await this.issueBootstrapAdmin();
      if (secret) this.announce?.(secret);
    }
  }

  /**
   * Called once the port is bound. The first admin token is stored only now: a start that fails
   * to listen (port in use) must not store a token nobody was shown.
   */
  async listeningStarted(announce?: (secret: string) => void): Promise<string | undefined> {
    this.listening = true;
    this.announce = announce;
    return this.projectionsStarted ? this.issueBootstrapAdmin() : undefined;
  }

  /** True when ADMIN_TOKEN is unset and an earlier start generated the admin token (stored as a hash). */
  hasStoredBootstrapAdmin(): boolean {
    return !this.config.adminToken && this.projectionsStarted && this.generatedAdminToken === undefined && this.runner.handle<TokensHandle>('tokens').hasBootstrapAdmin();
  }

  private async issueBootstrapAdmin(): Promise<string | undefined> {
    if (this.config.adminToken) return undefined;
    // Under a lease: instances starting together on a fresh shared store issue one token.
    const round = await this.lease.runExclusive(
      'bootstrap-admin',
      async () => {
        await this.ryw.settle();
        if (this.runner.handle<TokensHandle>('tokens').hasBootstrapAdmin()) return undefined;
        const issued = await this.commands.execute(
          new IssueManagementTokenCommand('admin', systemContext(randomUUID(), randomUUID()), { name: 'bootstrap', bootstrap: true }),
        );
        this.generatedAdminToken = issued.secret;
        return issued.secret;
      },
      { waitMs: 30_000 },
    );
    return round.ran ? round.value : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    await this.runner.stop();
    await this.lease.close();
    await this.store.close();
    await this.checkpointer?.stop();
    await this.scans.close();
    if (this.db.open) this.db.close();
  }
}
