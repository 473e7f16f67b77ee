import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';

/**
 * An independent SET receiver for the tests: it verifies tokens with jose against the
 * server's published JWKS (not with the product's code), and for push it is a real HTTP
 * server on loopback whose answers a test scripts.
 */
export async function verifySet(token: string, jwksUrl: string, expect: { issuer: string; audience: string }): Promise<JWTPayload> {
  const jwks = (await (await fetch(jwksUrl)).json()) as { keys: [] };
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: expect.issuer, audience: expect.audience, typ: 'secevent+jwt' });
  if (!protectedHeader.kid) throw new Error('SET without kid');
  return payload;
}

export type Answer = { status: number; body?: unknown; delayMs?: number } | 'hang';

export class PushReceiver {
  readonly received: { token: string; claims: JWTPayload; authorization?: string }[] = [];
  /** Decides each answer; default 202. `req` tells who sent it (its socket's remote port). */
  answer: (claims: JWTPayload, req: IncomingMessage) => Answer = () => ({ status: 202 });
  private server?: Server;

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  async up(): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.headers['content-type'] !== 'application/secevent+jwt') {
          res.writeHead(415).end();
          return;
        }
        const claims = decodeJwt(body);
        const a = this.answer(claims, req);
        if (a === 'hang') return;
        const respond = () => {
          if (a.status === 202) this.received.push({ token: body, claims, authorization: req.headers.authorization });
          res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body === undefined ? '' : JSON.stringify(a.body));
        };
        if (a.delayMs) setTimeout(respond, a.delayMs);
        else respond();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  static async freePort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
}

/** The event URIs of a SET, short (`prov:create:notice`). */
export const shortUris = (claims: JWTPayload) => Object.keys(claims.events as object).map((u) => u.replace('urn:ietf:params:scim:event:', '')).sort();
