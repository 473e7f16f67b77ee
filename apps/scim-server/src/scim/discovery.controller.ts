import { Controller, Delete, Get, HttpException, Inject, Param, Patch, Post, Put, UseGuards } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { findResourceType, findSchema, resourceTypes, schemas, serviceProviderConfig } from '@app/scim';
import { ResourceNotFound } from '@app/identity';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { Scim, type ScimRequest } from '../infrastructure/request-context';
import { scimPaths } from './scim-paths';

const DISCOVERY = [
  ...scimPaths('ServiceProviderConfig'),
  ...scimPaths('ResourceTypes'),
  ...scimPaths('ResourceTypes/:id'),
  ...scimPaths('Schemas'),
  ...scimPaths('Schemas/:id'),
];

/** RFC 7644 §4 discovery. Bearer auth applies here too, as on GitLab. */
@Controller('api/scim/v2')
@UseGuards(ScimAuthGuard)
export class DiscoveryController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get(scimPaths('ServiceProviderConfig'))
  serviceProviderConfig(@Scim() scim: ScimRequest) {
    return serviceProviderConfig({
      baseUrl: scim.baseUrl,
      maxResults: this.config.maxResults,
      maxOperations: this.config.bulkMaxOperations,
      maxPayloadSize: this.config.maxPayloadBytes,
      cursorTimeout: this.config.cursorTimeoutSeconds,
    });
  }

  @Get(scimPaths('ResourceTypes'))
  resourceTypes(@Scim() scim: ScimRequest) {
    return resourceTypes(scim.baseUrl);
  }

  @Get(scimPaths('ResourceTypes/:id'))
  resourceType(@Scim() scim: ScimRequest, @Param('id') id: string) {
    const found = findResourceType(scim.baseUrl, id);
    if (!found) throw new ResourceNotFound('ResourceType', id);
    return found;
  }

  @Get(scimPaths('Schemas'))
  schemas(@Scim() scim: ScimRequest) {
    return schemas(scim.baseUrl);
  }

  @Get(scimPaths('Schemas/:id'))
  schema(@Scim() scim: ScimRequest, @Param('id') id: string) {
    const found = findSchema(scim.baseUrl, id);
    if (!found) throw new ResourceNotFound('Schema', id);
    return found;
  }

  // Discovery documents are read-only: other methods get 405, not 404.
  @Post(DISCOVERY)
  post(): never {
    throw new HttpException('Method not allowed', 405);
  }

  @Put(DISCOVERY)
  put(): never {
    throw new HttpException('Method not allowed', 405);
  }

  @Patch(DISCOVERY)
  patch(): never {
    throw new HttpException('Method not allowed', 405);
  }

  @Delete(DISCOVERY)
  delete(): never {
    throw new HttpException('Method not allowed', 405);
  }
}
