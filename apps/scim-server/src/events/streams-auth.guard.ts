import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { AuthService } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { groupScope, IDENTITY_DIRECTORY, type IdentityDirectory, INSTANCE_SCOPE } from '@app/identity';
import { authenticateRequest } from '../infrastructure/authenticate-request';
import { AuthenticationRequired } from '../infrastructure/auth-errors';
import { type AppRequest, requestState } from '../infrastructure/request-context';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { AUTH_SERVICE } from '../infrastructure/tokens';

/**
 * SSF stream management and polling: the scope's own SCIM token (as every SCIM route), or an
 * admin management token, which may manage the streams of any scope the URL names.
 */
@Injectable()
export class StreamsAuthGuard implements CanActivate {
  constructor(
    private readonly scim: ScimAuthGuard,
    @Inject(AUTH_SERVICE) private readonly auth: AuthService,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AppRequest>();
    const principal = await authenticateRequest(req, this.auth);
    if (principal?.kind !== 'management') return this.scim.canActivate(context);
    if (principal.role !== 'admin') throw new AuthenticationRequired();
    const state = requestState(req);
    const groupPath = (req.params as Record<string, string | undefined>).groupPath;
    if (groupPath === undefined) {
      state.scope = INSTANCE_SCOPE;
      state.scimBaseUrl = `${this.config.publicUrl}/api/scim/v2/application`;
    } else {
      const group = await this.directory.groupByPath(groupPath);
      if (!group || group.parentId !== undefined) throw new AuthenticationRequired();
      state.scope = groupScope(group.id);
      state.scimBaseUrl = `${this.config.publicUrl}/api/scim/v2/groups/${encodeURIComponent(group.fullPath)}`;
    }
    state.principal = principal;
    return true;
  }
}
