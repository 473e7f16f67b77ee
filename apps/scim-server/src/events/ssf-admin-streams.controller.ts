import { Controller, Get, UseGuards } from '@nestjs/common';
import { SetPushWorker, SetStreams } from '@app/events';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { streamOverview } from './ssf.views';

/**
 * Every SET stream of every scope with its delivery health, for the console's Streams tab. SSF's
 * own endpoints are per scope (a receiver sees only its own); an operator needs them all at once.
 * Read-only, so auditors too; changing a stream stays with the scope's SSF status endpoint (admin).
 */
@Controller('api/v1/ssf')
@UseGuards(ManagementAuthGuard)
export class SsfAdminStreamsController {
  constructor(
    private readonly streams: SetStreams,
    private readonly push: SetPushWorker,
  ) {}

  @Get('streams')
  @Roles('admin', 'auditor')
  async list() {
    const scopes = [...new Set(this.streams.feed().streams().map((s) => s.scope))];
    const views = (await Promise.all(scopes.map((scope) => this.streams.list(scope)))).flat();
    return Promise.all(
      views.map(async (view) => streamOverview(view, await this.streams.progress(view.state.id), this.streams.feed().last(view.state.scope), this.push.status(view.state.id))),
    );
  }
}
