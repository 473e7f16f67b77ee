import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { AuthService } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { groupScope, IDENTITY_DIRECTORY, type IdentityDirectory, INSTANCE_SCOPE, type ScopeId } from '@app/identity';
import { authenticateRequest } from './authenticate-request';
import { AuthenticationRequired } from './auth-errors';
import { type AppRequest, requestState } from './request-context';
import { AUTH_SERVICE } from './tokens';

/**
 * Every SCIM route, discovery included: the bearer token must be a SCIM token of exactly
 * the scope the URL names. A missing group and a wrong token get the same 401, so the API
 * does not reveal which group paths exist.
 */
@Injectable()
export class ScimAuthGuard implements CanActivate {
  constructor(
    @Inject(AUTH_SERVICE) private readonly auth: AuthService,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AppRequest>();
    const state = requestState(req);
    const principal = await authenticateRequest(req, this.auth);
    const groupPath = (req.params as Record<string, string | undefined>).groupPath;
    let scope: ScopeId | undefined = INSTANCE_SCOPE;
    let base = `${this.config.publicUrl}/api/scim/v2/application`;
    if (groupPath !== undefined) {
      scope = undefined;
      if (principal?.kind === 'scim' && principal.scope.startsWith('group:')) {
        const group = await this.directory.groupByPath(groupPath);
        if (group && group.parentId === undefined) {
          scope = groupScope(group.id);
          base = `${this.config.publicUrl}/api/scim/v2/groups/${encodeURIComponent(group.fullPath)}`;
        }
      }
    }
    if (!principal || principal.kind !== 'scim' || scope === undefined || principal.scope !== scope) {
      throw new AuthenticationRequired();
    }
    state.principal = principal;
    state.scope = scope;
    state.scimBaseUrl = base;
    return true;
  }
}
