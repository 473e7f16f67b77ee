import type { AuthService, Principal } from '@app/auth';
import { asyncRequestTickets } from '../scim/async/async-request-tickets';
import { type AppRequest, requestState } from './request-context';

/**
 * The principal of a request's bearer token, resolved once per request: the rate limiter
 * keys on it (before the body is read) and the guards reuse it. Undefined when there is no
 * valid token; rejects when the tokens cannot be read (store unavailable: the guard answers 503).
 */
export function authenticateRequest(req: AppRequest, auth: AuthService): Promise<Principal | undefined> {
  const state = requestState(req);
  // An accepted asynchronous request, run by the server itself, carries a ticket instead of a token.
  const ticket = asyncRequestTickets.principalOf(req.headers.authorization);
  state.authentication ??= ticket ? Promise.resolve(ticket) : auth.authenticate(req.headers.authorization);
  return state.authentication;
}

/**
 * The rate-limit bucket of a request: the authenticated token's id, so every spelling of the
 * same secret (`Bearer  x`, `bearer x`) shares one bucket; anything unauthenticated or with a
 * token that does not authenticate shares its client address's bucket.
 */
export async function rateLimitKey(req: AppRequest, auth: AuthService): Promise<string> {
  // Tokens unreadable (store down): the address's bucket; the guard then answers 503.
  const principal = await authenticateRequest(req, auth).catch(() => undefined);
  return principal ? `token:${principal.tokenId}` : `ip:${req.ip}`;
}
