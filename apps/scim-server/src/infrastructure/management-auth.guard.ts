import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthService, ManagementRole } from '@app/auth';
import { authenticateRequest } from './authenticate-request';
import { AuthenticationRequired, RoleForbidden } from './auth-errors';
import { type AppRequest, requestState } from './request-context';
import { AUTH_SERVICE } from './tokens';

const ROLES = 'management-roles';

/** Which management roles may call a route. Routes without it are admin-only. */
export const Roles = (...roles: ManagementRole[]) => SetMetadata(ROLES, roles);

@Injectable()
export class ManagementAuthGuard implements CanActivate {
  constructor(
    @Inject(AUTH_SERVICE) private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AppRequest>();
    const principal = await authenticateRequest(req, this.auth);
    if (!principal || principal.kind !== 'management') throw new AuthenticationRequired('A valid management token is required');
    const allowed = this.reflector.getAllAndOverride<ManagementRole[] | undefined>(ROLES, [
      context.getHandler(),
      context.getClass(),
    ]) ?? ['admin'];
    if (!allowed.includes(principal.role)) {
      throw new RoleForbidden(`The ${principal.role} role may not do this`);
    }
    requestState(req).principal = principal;
    return true;
  }
}
