import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ProjectionRunner } from '@app/projections';
import { StoreSpace } from '../infrastructure/store-space';
import { StoreHealthIndicator } from './store-health.indicator';

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
    private readonly store: StoreHealthIndicator,
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
      () => this.store.check(),
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
