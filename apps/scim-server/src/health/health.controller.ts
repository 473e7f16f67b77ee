import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ProjectionRunner } from '@app/projections';
import { StoreSpace } from '../infrastructure/store-space';

/**
 * Liveness: the process answers. Readiness: the store answers and the projections have
 * caught up once and are following (a lag of a few events under write load is normal and
 * reported, not a reason to take the instance out of rotation).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly runner: ProjectionRunner,
    private readonly space: StoreSpace,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([async () => this.indicators.check('process').up({ pid: process.pid })]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const store = this.indicators.check('store');
        try {
          return store.up({ kind: this.store.name, head: (await this.store.headPosition()).toString() });
        } catch {
          return store.down({ kind: this.store.name, message: 'event store unreachable' });
        }
      },
      async () => {
        // A full disk: reads still work, but an instance that cannot write is not ready.
        const storage = this.indicators.check('storage');
        const status = this.space.status();
        return status.writable ? storage.up(status) : storage.down({ ...status, message: 'the store cannot write: out of disk space' });
      },
      async () => {
        const projections = this.indicators.check('projections');
        const list = await this.runner.status().catch(() => []);
        const following = this.runner.isCaughtUp && !this.runner.error && list.length > 0;
        return following ? projections.up({ list }) : projections.down({ list, message: 'projections are starting or paused' });
      },
    ]);
  }
}
