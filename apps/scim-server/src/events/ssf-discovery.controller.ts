import { Controller, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { SetSigningKeys } from '@app/events';
import { ManagementAuthGuard } from '../infrastructure/management-auth.guard';
import { ssfConfiguration } from './ssf.views';

/**
 * Public SSF discovery (SSF 1.0 §7: `/.well-known/ssf-configuration` with the issuer's path
 * appended for a group scope) and the JWKS that verifies every SET. Neither reveals whether a
 * group path exists: the document is built from the path as given.
 */
@Controller()
export class SsfDiscoveryController {
  constructor(
    private readonly keys: SetSigningKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('.well-known/ssf-configuration')
  instance() {
    return ssfConfiguration(this.config.publicUrl, `${this.config.publicUrl}/api/scim/v2/application`);
  }

  @Get('.well-known/ssf-configuration/api/scim/v2/application')
  instanceByIssuer() {
    return this.instance();
  }

  @Get('.well-known/ssf-configuration/api/scim/v2/groups/:groupPath')
  group(@Param('groupPath') groupPath: string) {
    return ssfConfiguration(this.config.publicUrl, `${this.config.publicUrl}/api/scim/v2/groups/${encodeURIComponent(groupPath)}`);
  }

  @Get('api/ssf/jwks.json')
  jwks() {
    return this.keys.jwks();
  }
}

/** Admin: rotate this instance's SET signing keys (the old ones stay in the JWKS for the overlap). */
@Controller('api/v1/ssf')
@UseGuards(ManagementAuthGuard)
export class SsfKeysController {
  constructor(private readonly keys: SetSigningKeys) {}

  @Post('keys/rotate')
  rotate() {
    return this.keys.rotate();
  }
}
