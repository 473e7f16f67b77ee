import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ProjectionRunner } from '@app/projections';

/** Liveness says the process answers; readiness says the store is open and projections caught up. */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly runner: ProjectionRunner,
  ) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    let head: bigint;
    try {
      head = await this.store.headPosition();
    } catch {
      void reply.status(503);
      return { status: 'unavailable', store: 'unreachable' };
    }
    const projections = await this.runner.status();
    const behind = projections.some((p) => BigInt(p.lag) > 0n);
    // A lag of a few events under write load is normal; ready means "has caught up once and
    // is following", so a brief lag does not flap the probe.
    const ready = this.runner.isCaughtUp && !this.runner.error;
    void reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ok' : 'starting',
      store: { kind: this.store.name, head: head.toString() },
      projections,
      lagging: behind,
    };
  }
}
