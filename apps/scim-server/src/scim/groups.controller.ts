import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@app/config';
import {
  CreateScimGroupCommand,
  DeleteScimGroupCommand,
  PreconditionFailed,
  ResourceNotFound,
  type ScimGroupState,
  type ScimGroupWriteResult,
  UpdateScimGroupCommand,
} from '@app/identity';
import { mapInSlices } from '@app/projections';
import { GetScimGroupQuery, type GroupWithMembers, ListScimGroupsQuery, ResolveScimGroupVersionQuery } from '@app/read-models';
import {
  planGroupPatch,
  renderGroup,
  listResponse,
  parseEtag,
  weakEtag,
  normalizeGroupInput,
  resolveAttribute,
  applyAttributeSelection,
  wantsAttribute,
} from '@app/scim';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { AsyncRequestInterceptor } from './async/async-request.interceptor';
import { commandContext, Scim, type ScimRequest } from '../infrastructure/request-context';
import { isUuid, queryParam, scimPaths } from './scim-paths';
import { listParameters, type Selection, selection } from './scim-query';
import { headerOf, searchBody } from './users.controller';

const resolveGroup = (path: string) => resolveAttribute('Group', path);

// `Prefer: respond-async` applies to writes only, so its interceptor is on the write routes, not
// the class: any interceptor puts a route's response through an rxjs pipeline, a tenth of a GET.
/** SCIM Groups in both scopes. Members are read only when the response includes them. */
@Controller('api/scim/v2')
@UseGuards(ScimAuthGuard)
export class GroupsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post(scimPaths('Groups'))
  @UseInterceptors(AsyncRequestInterceptor)
  @HttpCode(201)
  async create(@Scim() scim: ScimRequest, @Body() body: unknown, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const doc = normalizeGroupInput(body);
    const result = await this.commands.execute(
      new CreateScimGroupCommand(scim.scope, doc.displayName, doc.externalId, doc.members, commandContext(scim.req, 201)),
    );
    const { resource, version } = await this.render(scim, result, selection(query));
    void reply.header('Location', (resource.meta as { location: string }).location);
    void reply.header('ETag', weakEtag(version));
    return resource;
  }

  @Get(scimPaths('Groups'))
  async list(@Scim() scim: ScimRequest, @Query() query: Record<string, unknown>) {
    return this.search(scim, listParameters(query, this.config.maxResults));
  }

  @Post(scimPaths('Groups/.search'))
  @HttpCode(200)
  async searchGroups(@Scim() scim: ScimRequest, @Body() body: unknown) {
    return this.search(scim, listParameters(searchBody(body), this.config.maxResults, true));
  }

  @Get(scimPaths('Groups/:id'))
  async get(@Scim() scim: ScimRequest, @Param('id') id: string, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const sel = selection(query);
    const found = await this.find(scim, id, wantsAttribute('Group', sel, 'members'));
    void reply.header('ETag', weakEtag(found.group.version));
    const inm = parseEtag(headerOf(scim, 'if-none-match'));
    if (inm === '*' || (typeof inm === 'bigint' && inm.toString() === found.group.version)) {
      void reply.status(304);
      return undefined;
    }
    return applyAttributeSelection(renderGroup(found.group, scim.baseUrl, found.members), 'Group', sel);
  }

  @Put(scimPaths('Groups/:id'))
  @UseInterceptors(AsyncRequestInterceptor)
  async replace(
    @Scim() scim: ScimRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.assertId(id);
    const doc = normalizeGroupInput(body);
    const ifMatch = await this.ifMatch(scim, id);
    const result = await this.commands.execute(
      new UpdateScimGroupCommand(
        scim.scope,
        id,
        () => ({ displayName: doc.displayName, externalId: doc.externalId ?? null, memberOps: [{ op: 'replace', ids: doc.members }] }),
        commandContext(scim.req, 200),
        ifMatch,
      ),
    );
    const { resource, version } = await this.render(scim, result, selection(query));
    void reply.header('ETag', weakEtag(version));
    return resource;
  }

  /** 204 as Entra expects, unless the request asks for attributes back. */
  @Patch(scimPaths('Groups/:id'))
  @UseInterceptors(AsyncRequestInterceptor)
  async patch(
    @Scim() scim: ScimRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.assertId(id);
    const ifMatch = await this.ifMatch(scim, id);
    const result = await this.commands.execute(
      new UpdateScimGroupCommand(
        scim.scope,
        id,
        (current: ScimGroupState) => {
          const plan = planGroupPatch(
            { id: current.id, displayName: current.displayName, ...(current.externalId ? { externalId: current.externalId } : {}) },
            body,
            resolveGroup,
          );
          return {
            ...(plan.displayName !== undefined ? { displayName: plan.displayName } : {}),
            ...(plan.externalId !== undefined ? { externalId: plan.externalId } : {}),
            memberOps: plan.memberOps,
          };
        },
        commandContext(scim.req, 204),
        ifMatch,
      ),
    );
    const sel = selection(query);
    const { resource, version } = await this.render(scim, result, sel);
    void reply.header('ETag', weakEtag(version));
    if (queryParam(query, 'attributes') === undefined && queryParam(query, 'excludedAttributes') === undefined) {
      void reply.status(204);
      return undefined;
    }
    void reply.status(200);
    return resource;
  }

  @Delete(scimPaths('Groups/:id'))
  @UseInterceptors(AsyncRequestInterceptor)
  @HttpCode(204)
  async remove(@Scim() scim: ScimRequest, @Param('id') id: string) {
    this.assertId(id);
    const ifMatch = await this.ifMatch(scim, id);
    await this.commands.execute(new DeleteScimGroupCommand(scim.scope, id, commandContext(scim.req, 204), ifMatch));
  }

  private async search(scim: ScimRequest, params: ReturnType<typeof listParameters>) {
    const withMembers = wantsAttribute('Group', params, 'members');
    const { total, items, nextCursor } = await this.queries.execute(new ListScimGroupsQuery(scim.scope, params, withMembers));
    return listResponse(
      await mapInSlices(items, (i: GroupWithMembers) => applyAttributeSelection(renderGroup(i.group, scim.baseUrl, i.members), 'Group', params)),
      total,
      params.cursor === undefined ? params.startIndex : undefined,
      nextCursor,
    );
  }

  /** The group as this write left it; its version is the read model's (members included). */
  private async render(scim: ScimRequest, result: ScimGroupWriteResult, sel: Selection) {
    const found = await this.queries.execute(new GetScimGroupQuery(scim.scope, result.group.id, wantsAttribute('Group', sel, 'members')));
    if (!found) throw new ResourceNotFound('Group', result.group.id);
    return { resource: applyAttributeSelection(renderGroup(found.group, scim.baseUrl, found.members), 'Group', sel), version: found.group.version };
  }

  /** The group stream revision an `If-Match` version stands for (the rule is the query's). */
  private async ifMatch(scim: ScimRequest, id: string): Promise<bigint | undefined> {
    const tag = parseEtag(headerOf(scim, 'if-match'));
    if (tag === undefined || tag === '*') return undefined;
    if (tag === 'invalid') throw new PreconditionFailed('If-Match does not name a version of this resource');
    return this.queries.execute(new ResolveScimGroupVersionQuery(scim.scope, id, tag));
  }

  private async find(scim: ScimRequest, id: string, withMembers: boolean): Promise<GroupWithMembers> {
    this.assertId(id);
    const found = await this.queries.execute(new GetScimGroupQuery(scim.scope, id, withMembers));
    if (!found) throw new ResourceNotFound('Group', id);
    return found;
  }

  private assertId(id: string): void {
    if (!isUuid(id)) throw new ResourceNotFound('Group', id);
  }
}

