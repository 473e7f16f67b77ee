import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Res, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@app/config';
import {
  CreateScimGroupCommand,
  DeleteScimGroupCommand,
  ResourceNotFound,
  type ScimGroupState,
  type ScimGroupWriteResult,
  UpdateScimGroupCommand,
} from '@app/identity';
import { mapInSlices } from '@app/projections';
import { GetScimGroupQuery, type GroupWithMembers, ListScimGroupsQuery } from '@app/read-models/queries/scim-group.queries';
import { planGroupPatch } from '@app/scim/patch';
import { renderGroup } from '@app/scim/resources/group.resource';
import { listResponse, weakEtag } from '@app/scim/resources/user.resource';
import { normalizeGroupInput } from '@app/scim/schema/normalize';
import { resolveAttribute } from '@app/scim/schema/resolve';
import { applyAttributeSelection, wantsAttribute } from '@app/scim/schema/select-attributes';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { commandContext, Scim, type ScimRequest } from '../infrastructure/request-context';
import { ifMatchRevision, isUuid, queryParam, scimPaths } from './scim-paths';
import { listParameters, type Selection, selection } from './scim-query';
import { searchBody } from './users.controller';

const resolveGroup = (path: string) => resolveAttribute('Group', path);

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
  @HttpCode(201)
  async create(@Scim() scim: ScimRequest, @Body() body: unknown, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const doc = normalizeGroupInput(body);
    const result = await this.commands.execute(
      new CreateScimGroupCommand(scim.scope, doc.displayName, doc.externalId, doc.members, commandContext(scim.req, 201)),
    );
    const resource = await this.render(scim, result, selection(query));
    void reply.header('Location', (resource.meta as { location: string }).location);
    void reply.header('ETag', weakEtag(result.revision.toString()));
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
    return applyAttributeSelection(renderGroup(found.group, scim.baseUrl, found.members), 'Group', sel);
  }

  @Put(scimPaths('Groups/:id'))
  async replace(
    @Scim() scim: ScimRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.assertId(id);
    const doc = normalizeGroupInput(body);
    const result = await this.commands.execute(
      new UpdateScimGroupCommand(
        scim.scope,
        id,
        () => ({ displayName: doc.displayName, externalId: doc.externalId ?? null, memberOps: [{ op: 'replace', ids: doc.members }] }),
        commandContext(scim.req, 200),
        ifMatchRevision(scim.req.headers['if-match']),
      ),
    );
    void reply.header('ETag', weakEtag(result.revision.toString()));
    return this.render(scim, result, selection(query));
  }

  /** 204 as Entra expects, unless the request asks for attributes back. */
  @Patch(scimPaths('Groups/:id'))
  async patch(
    @Scim() scim: ScimRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.assertId(id);
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
        ifMatchRevision(scim.req.headers['if-match']),
      ),
    );
    void reply.header('ETag', weakEtag(result.revision.toString()));
    const sel = selection(query);
    if (queryParam(query, 'attributes') === undefined && queryParam(query, 'excludedAttributes') === undefined) {
      void reply.status(204);
      return undefined;
    }
    void reply.status(200);
    return this.render(scim, result, sel);
  }

  @Delete(scimPaths('Groups/:id'))
  @HttpCode(204)
  async remove(@Scim() scim: ScimRequest, @Param('id') id: string) {
    this.assertId(id);
    await this.commands.execute(new DeleteScimGroupCommand(scim.scope, id, commandContext(scim.req, 204), ifMatchRevision(scim.req.headers['if-match'])));
  }

  private async search(scim: ScimRequest, params: ReturnType<typeof listParameters>) {
    const withMembers = wantsAttribute('Group', params, 'members');
    const { total, items } = await this.queries.execute(new ListScimGroupsQuery(scim.scope, params, withMembers));
    return listResponse(
      await mapInSlices(items, (i: GroupWithMembers) => applyAttributeSelection(renderGroup(i.group, scim.baseUrl, i.members), 'Group', params)),
      total,
      params.startIndex,
    );
  }

  private async render(scim: ScimRequest, result: ScimGroupWriteResult, sel: Selection) {
    const found = await this.queries.execute(new GetScimGroupQuery(scim.scope, result.group.id, wantsAttribute('Group', sel, 'members')));
    if (!found) throw new ResourceNotFound('Group', result.group.id);
    return applyAttributeSelection(renderGroup({ ...found.group, version: result.revision.toString() }, scim.baseUrl, found.members), 'Group', sel);
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

