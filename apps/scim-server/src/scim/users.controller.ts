import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig } from '@app/config';
import {
  type AttributeDocument,
  CreateScimUserCommand,
  DeleteScimUserCommand,
  type IdentityState,
  ResourceNotFound,
  type ScimUserWriteResult,
  UpdateScimUserCommand,
} from '@app/identity';
import { mapInSlices } from '@app/projections';
import { GetScimUserQuery, ListScimUsersQuery, type UserWithGroups, GroupsOfUserQuery } from '@app/read-models';
import {
  applyUserPatch,
  listResponse,
  parseEtag,
  renderUser,
  weakEtag,
  applyAttributeSelection,
  wantsAttribute,
  normalizeUserDocument,
  normalizeUserInput,
  resolveAttribute,
  ScimError,
} from '@app/scim';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { AsyncRequestInterceptor } from './async/async-request.interceptor';
import { commandContext, Scim, type ScimRequest } from '../infrastructure/request-context';
import { ifMatchRevision, isUuid, scimPaths } from './scim-paths';
import { listParameters, type Selection, selection } from './scim-query';

const resolveUser = (path: string) => resolveAttribute('User', path);

// `Prefer: respond-async` applies to writes only, so its interceptor is on the write routes, not
// the class: any interceptor puts a route's response through an rxjs pipeline, a tenth of a GET.
/** SCIM Users: translate HTTP to commands and queries, render resources. No rules here. */
@Controller('api/scim/v2')
@UseGuards(ScimAuthGuard)
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post(scimPaths('Users'))
  @UseInterceptors(AsyncRequestInterceptor)
  @HttpCode(201)
  async create(@Scim() scim: ScimRequest, @Body() body: unknown, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const { active, ...attributes } = normalizeUserInput(body) as AttributeDocument & { active: boolean };
    const result = await this.commands.execute(
      new CreateScimUserCommand(scim.scope, attributes, active, commandContext(scim.req, 201)),
    );
    const sel = selection(query);
    // An identity created by this request belongs to no group yet; a revived one may.
    const view = fromWrite(result);
    const resource = renderUser(result.revived ? await this.withGroups(view, sel) : view, scim.baseUrl);
    void reply.header('Location', (resource.meta as { location: string }).location);
    void reply.header('ETag', weakEtag(result.revision.toString()));
    return applyAttributeSelection(resource, 'User', sel);
  }

  @Get(scimPaths('Users'))
  async list(@Scim() scim: ScimRequest, @Query() query: Record<string, unknown>) {
    return this.search(scim, listParameters(query, this.config.maxResults));
  }

  @Post(scimPaths('Users/.search'))
  @HttpCode(200)
  async searchUsers(@Scim() scim: ScimRequest, @Body() body: unknown) {
    return this.search(scim, listParameters(searchBody(body), this.config.maxResults, true));
  }

  @Get(scimPaths('Users/:id'))
  async get(
    @Scim() scim: ScimRequest,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const sel = selection(query);
    const row = await this.find(scim, id, wantsAttribute('User', sel, 'groups'));
    void reply.header('ETag', weakEtag(row.version));
    const inm = parseEtag(headerOf(scim, 'if-none-match'));
    if (inm === '*' || (typeof inm === 'bigint' && inm.toString() === row.version)) {
      void reply.status(304);
      return undefined;
    }
    return applyAttributeSelection(renderUser(fromRow(row), scim.baseUrl), 'User', sel);
  }

  @Put(scimPaths('Users/:id'))
  @UseInterceptors(AsyncRequestInterceptor)
  async replace(
    @Scim() scim: ScimRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.assertId(id);
    const { active, ...attributes } = normalizeUserInput(body) as AttributeDocument & { active: boolean };
    // A PUT that leaves out `active` never deprovisions by omission.
    const sentActive = hasKey(body, 'active');
    const result = await this.commands.execute(
      new UpdateScimUserCommand(
        scim.scope,
        id,
        () => ({ attributes, ...(sentActive ? { active } : {}) }),
        commandContext(scim.req, 200),
        ifMatchRevision(scim.req.headers['if-match']),
      ),
    );
    return this.written(scim, result, query, reply);
  }

  @Patch(scimPaths('Users/:id'))
  @UseInterceptors(AsyncRequestInterceptor)
  async patch(
    @Scim() scim: ScimRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    this.assertId(id);
    const result = await this.commands.execute(
      new UpdateScimUserCommand(
        scim.scope,
        id,
        (current) => {
          const patched = applyUserPatch({ ...current.attributes, active: current.active }, body, resolveUser, { id }).doc;
          const { active, ...attributes } = normalizeUserDocument(patched) as AttributeDocument & { active: boolean };
          return { attributes, active };
        },
        commandContext(scim.req, 200),
        ifMatchRevision(scim.req.headers['if-match']),
      ),
    );
    return this.written(scim, result, query, reply);
  }

  @Delete(scimPaths('Users/:id'))
  @UseInterceptors(AsyncRequestInterceptor)
  @HttpCode(204)
  async remove(@Scim() scim: ScimRequest, @Param('id') id: string) {
    this.assertId(id);
    await this.commands.execute(new DeleteScimUserCommand(scim.scope, id, commandContext(scim.req, 204), ifMatchRevision(scim.req.headers['if-match'])));
  }

  private async search(scim: ScimRequest, params: ReturnType<typeof listParameters>) {
    const sel: Selection = params;
    const { total, rows, nextCursor } = await this.queries.execute(new ListScimUsersQuery(scim.scope, params, wantsAttribute('User', sel, 'groups')));
    return listResponse(
      // A page of 1,000 users takes long enough to render that other tenants would notice.
      await mapInSlices(rows, (row) => applyAttributeSelection(renderUser(fromRow(row), scim.baseUrl), 'User', sel)),
      total,
      params.cursor === undefined ? params.startIndex : undefined,
      nextCursor,
    );
  }

  private async written(scim: ScimRequest, result: ScimUserWriteResult, query: Record<string, unknown>, reply: FastifyReply) {
    void reply.header('ETag', weakEtag(result.revision.toString()));
    const sel = selection(query);
    return applyAttributeSelection(renderUser(await this.withGroups(fromWrite(result), sel), scim.baseUrl), 'User', sel);
  }

  /** The read-only `groups` attribute, looked up only when the response includes it. */
  private async withGroups<T extends { id: string }>(view: T, sel: Selection): Promise<T & { groups?: { value: string; display?: string }[] }> {
    if (!wantsAttribute('User', sel, 'groups')) return view;
    const groups = await this.queries.execute(new GroupsOfUserQuery(view.id));
    return groups.length > 0 ? { ...view, groups } : view;
  }

  private async find(scim: ScimRequest, id: string, groups: boolean): Promise<UserWithGroups> {
    this.assertId(id);
    const row = await this.queries.execute(new GetScimUserQuery(scim.scope, id, groups));
    if (!row) throw new ResourceNotFound('User', id);
    return row;
  }

  private assertId(id: string): void {
    // Ids are UUIDs; anything else (`../x`, `%00`) is simply not found.
    if (!isUuid(id)) throw new ResourceNotFound('User', id);
  }
}

export function fromWrite(result: ScimUserWriteResult) {
  const i: IdentityState = result.identity;
  return {
    id: i.id,
    attributes: i.attributes,
    active: i.active,
    created: i.created,
    lastModified: i.lastModified,
    version: result.revision.toString(),
  };
}

export function fromRow(row: UserWithGroups) {
  return {
    ...(row.groups ? { groups: row.groups } : {}),
    id: row.id,
    attributes: row.attributes,
    active: row.active,
    created: row.created,
    lastModified: row.lastModified,
    version: row.version,
  };
}

export function headerOf(scim: ScimRequest, name: string): string | undefined {
  const v = scim.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}


function hasKey(body: unknown, name: string): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key !== undefined && (body as Record<string, unknown>)[key] !== null;
}

export function searchBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ScimError.invalidSyntax('The search request must be a JSON object');
  }
  return body as Record<string, unknown>;
}
