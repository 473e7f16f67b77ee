import { randomUUID } from 'node:crypto';
import type { Principal } from '@app/auth';

/** The Authorization scheme of a request the server runs for an accepted asynchronous request. */
const SCHEME = 'AsyncRequest';

/**
 * The authority an accepted asynchronous request runs with. The log keeps no bearer secret, so
 * a run (live or after a crash) cannot present the caller's token: it presents a ticket that
 * names the caller's principal instead — random, held only in this process's memory, and only
 * while the run lasts (the Bulk endpoint passes it on to its operations like any Authorization).
 */
export class AsyncRequestTickets {
  private readonly tickets = new Map<string, Principal>();

  issue(principal: Principal): string {
    const ticket = randomUUID();
    this.tickets.set(ticket, principal);
    return `${SCHEME} ${ticket}`;
  }

  revoke(authorization: string): void {
    this.tickets.delete(authorization.slice(SCHEME.length + 1));
  }

  /** The principal of a ticket this process issued and has not revoked; undefined for anything else. */
  principalOf(authorization: string | undefined): Principal | undefined {
    if (!authorization?.startsWith(`${SCHEME} `)) return undefined;
    return this.tickets.get(authorization.slice(SCHEME.length + 1));
  }
}

/** One per process: the authentication step is a plain function (it runs in a Fastify hook too). */
export const asyncRequestTickets = new AsyncRequestTickets();
