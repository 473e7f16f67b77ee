import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { SetDelivery, type StreamSettings, SetPushWorker, SetStreams, type StreamSubject } from '@app/events';
import { InvalidCommand } from '@app/identity';
import { commandContext, Scim, type ScimRequest } from '../infrastructure/request-context';
import { queryParam, scimPaths } from '../scim/scim-paths';
import { StreamsAuthGuard } from './streams-auth.guard';
import { streamConfiguration, streamStatus } from './ssf.views';

type Json = Record<string, unknown>;

/** SSF 1.0 stream management (§8.1) per SCIM scope, and the RFC 8936 poll endpoint. */
@Controller('api/scim/v2')
@UseGuards(StreamsAuthGuard)
export class SsfStreamsController {
  constructor(
    private readonly streams: SetStreams,
    private readonly delivery: SetDelivery,
    private readonly push: SetPushWorker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post(scimPaths('ssf/stream'))
  @HttpCode(201)
  async create(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const streamId = randomUUID();
    const view = await this.streams.run(
      { type: 'CreateStream', streamId, scope: scim.scope, settings: settingsOf(body), defaultAudience: `${scim.baseUrl}/ssf/streams/${streamId}`, issuer: scim.baseUrl },
      commandContext(scim.req, 201),
    );
    return streamConfiguration(view);
  }

  @Get(scimPaths('ssf/stream'))
  async read(@Scim() scim: ScimRequest, @Query() query: Json) {
    const id = queryParam(query, 'stream_id');
    if (id === undefined) return (await this.streams.list(scim.scope)).map(streamConfiguration);
    return streamConfiguration(await this.streams.get(scim.scope, id));
  }

  @Patch(scimPaths('ssf/stream'))
  async update(@Scim() scim: ScimRequest, @Body() body: unknown) {
    return this.change(scim, body, false);
  }

  @Put(scimPaths('ssf/stream'))
  async replace(@Scim() scim: ScimRequest, @Body() body: unknown) {
    return this.change(scim, body, true);
  }

  @Delete(scimPaths('ssf/stream'))
  @HttpCode(204)
  async remove(@Scim() scim: ScimRequest, @Query() query: Json) {
    await this.streams.run({ type: 'DeleteStream', streamId: requiredId(queryParam(query, 'stream_id')), scope: scim.scope }, commandContext(scim.req, 204));
  }

  @Get(scimPaths('ssf/status'))
  async status(@Scim() scim: ScimRequest, @Query() query: Json) {
    const view = await this.streams.get(scim.scope, requiredId(queryParam(query, 'stream_id')));
    return streamStatus(view, this.delivery.lag(view, await this.streams.progress(view.state.id)), this.push.status(view.state.id));
  }

  @Post(scimPaths('ssf/status'))
  @HttpCode(200)
  async setStatus(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const b = objectOf(body);
    const view = await this.streams.run(
      { type: 'ChangeStatus', streamId: requiredId(b.stream_id), scope: scim.scope, status: String(b.status), ...(typeof b.reason === 'string' ? { reason: b.reason } : {}) },
      commandContext(scim.req, 200),
    );
    return streamStatus(view, this.delivery.lag(view, await this.streams.progress(view.state.id)), this.push.status(view.state.id));
  }

  @Post(scimPaths('ssf/subjects/add'))
  @HttpCode(200)
  async addSubject(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const b = objectOf(body);
    await this.streams.run({ type: 'AddSubject', streamId: requiredId(b.stream_id), scope: scim.scope, subject: subjectOf(b.subject) }, commandContext(scim.req, 200));
    return {};
  }

  @Post(scimPaths('ssf/subjects/remove'))
  @HttpCode(204)
  async removeSubject(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const b = objectOf(body);
    await this.streams.run({ type: 'RemoveSubject', streamId: requiredId(b.stream_id), scope: scim.scope, subject: subjectOf(b.subject) }, commandContext(scim.req, 204));
  }

  @Post(scimPaths('ssf/verify'))
  @HttpCode(204)
  async verify(@Scim() scim: ScimRequest, @Body() body: unknown) {
    const b = objectOf(body);
    await this.streams.run(
      { type: 'RequestVerification', streamId: requiredId(b.stream_id), scope: scim.scope, ...(typeof b.state === 'string' ? { state: b.state } : {}) },
      commandContext(scim.req, 204),
    );
  }

  @Post(scimPaths('ssf/poll/:streamId'))
  @HttpCode(200)
  async poll(@Scim() scim: ScimRequest, @Param('streamId') streamId: string, @Body() body: unknown) {
    return this.delivery.poll(scim.scope, streamId, objectOf(body ?? {}), commandContext(scim.req, 200));
  }

  private async change(scim: ScimRequest, body: unknown, replace: boolean) {
    const b = objectOf(body);
    const view = await this.streams.run(
      { type: 'UpdateStream', streamId: requiredId(b.stream_id), scope: scim.scope, settings: settingsOf(b), replace },
      commandContext(scim.req, 200),
    );
    return streamConfiguration(view);
  }
}

function objectOf(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidCommand('The body must be a JSON object');
  return body as Json;
}

function requiredId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) throw new InvalidCommand('stream_id is required', 'stream_id');
  return id;
}

/** SSF's wire names to the decider's settings; only what the body names (an update keeps the rest). */
function settingsOf(body: unknown): StreamSettings {
  const b = objectOf(body);
  const delivery = b.delivery === undefined ? {} : objectOf(b.delivery);
  const s: StreamSettings = {};
  if (b.aud !== undefined) s.audience = Array.isArray(b.aud) ? (b.aud[0] as string) : (b.aud as string);
  if (b.events_requested !== undefined) s.eventsRequested = b.events_requested as string[];
  if (delivery.method !== undefined) s.method = delivery.method as string;
  if (delivery.endpoint_url !== undefined) s.endpointUrl = delivery.endpoint_url as string | null;
  if (delivery.authorization_header !== undefined) s.authorizationHeader = delivery.authorization_header as string | null;
  if (b.signing_alg !== undefined) s.alg = b.signing_alg as string;
  if (b.description !== undefined) s.description = b.description as string | null;
  return s;
}

/** An SSF subject of format `scim` (`{format, uri: "/Users/<id>"}`). */
function subjectOf(value: unknown): StreamSubject {
  const s = objectOf(value);
  const m = typeof s.uri === 'string' ? /^\/(Users|Groups)\/([^/?#]{1,64})$/.exec(s.uri) : null;
  if (s.format !== 'scim' || !m) throw new InvalidCommand('subject must be {"format": "scim", "uri": "/Users/<id>" or "/Groups/<id>"}', 'subject');
  return { resource: m[1] as StreamSubject['resource'], id: m[2] };
}
