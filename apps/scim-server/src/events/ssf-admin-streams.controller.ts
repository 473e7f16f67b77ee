import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SetPushWorker, SetStreams } from '@app/events';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { ManagementApi } from '../infrastructure/openapi';
import { streamOverview } from './ssf.views';

/**
 * Every SET stream of every scope with its delivery health, for the console's Streams tab. SSF's
 * own endpoints are per scope (a receiver sees only its own); an operator needs them all at once.
 * Read-only, so auditors too; changing a stream stays with the scope's SSF status endpoint (admin).
 */
const text = { type: 'string' };
const nullableText = { type: 'string', nullable: true };
const OVERVIEW_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      stream_id: text,
      scope: { type: 'string', description: '`application` or `group:<top-level group id>`' },
      description: text,
      aud: text,
      delivery: { type: 'object', properties: { method: { type: 'string', enum: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'] }, endpoint_url: nullableText } },
      events_delivered: { type: 'array', items: text },
      status: { type: 'string', enum: ['enabled', 'paused', 'disabled'] },
      created_at: { type: 'string', format: 'date-time', nullable: true },
      delivery_health: {
        type: 'object',
        properties: {
          failing: { type: 'boolean' },
          failing_since: { type: 'string', format: 'date-time' },
          last_error: nullableText,
          attempts: { type: 'integer', description: 'consecutive failed push attempts' },
          head: { ...nullableText, description: "the scope's newest SET, `<log position>.<index>`" },
          settled: { ...nullableText, description: 'the newest SET the stream has settled (all before it delivered)' },
          lag: { type: 'integer', description: 'log positions between head and settled; 0 when caught up' },
          last_delivery_at: { type: 'string', format: 'date-time', nullable: true },
        },
      },
    },
  },
};

@ApiTags('SCIM events')
@ManagementApi()
@Controller('api/v1/ssf')
@UseGuards(ManagementAuthGuard)
export class SsfAdminStreamsController {
  constructor(
    private readonly streams: SetStreams,
    private readonly push: SetPushWorker,
  ) {}

  @Get('streams')
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: "Every scope's SCIM event streams (SSF) with their delivery health: status, failing, last error, lag, last delivery. Admin, auditor." })
  @ApiOkResponse({ schema: OVERVIEW_SCHEMA })
  async list() {
    const scopes = [...new Set(this.streams.feed().streams().map((s) => s.scope))];
    const views = (await Promise.all(scopes.map((scope) => this.streams.list(scope)))).flat();
    return Promise.all(
      views.map(async (view) => streamOverview(view, await this.streams.progress(view.state.id), this.streams.feed().last(view.state.scope), this.push.status(view.state.id))),
    );
  }
}
