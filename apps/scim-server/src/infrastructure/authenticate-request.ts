import type { AuthService, Principal } from '@app/auth';
import { type AppRequest, requestState } from './request-context';

/**
 * The principal of a request's bearer token, resolved once per request: the rate limiter
 * keys on it (before the body is read) and the guards reuse it. Undefined when there is no
 * valid token, including when the tokens read model cannot be read yet (the guard then
 * answers as it would for any unknown token).
 */
export function authenticateRequest(req: AppRequest, auth: AuthService): Promise<Principal | undefined> {
  const state = requestState(req);
  state.authentication ??= auth.authenticate(req.headers.authorization).catch(() => undefined);
  return state.authentication;
}

/**
 * The rate-limit bucket of a request: the authenticated token's id, so every spelling of the
 * same secret (`Bearer  x`, `bearer x`) shares one bucket; anything unauthenticated or with a
 * token that does not authenticate shares its client address's bucket.
 */
export async function rateLimitKey(req: AppRequest, auth: AuthService): Promise<string> {
  const principal = await authenticateRequest(req, auth);
  return principal ? `token:${principal.tokenId}` : `ip:${req.ip}`;
}
