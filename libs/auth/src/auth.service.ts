import type { EventStore } from '@app/event-store';
import { StreamNotFoundError } from '@app/event-store';
import { ReadYourWrites } from '@app/projections';
import { FreshRead } from './fresh-read';
import type { Principal } from './principal';
import { digestsEqual, sha256 } from './token-secret';
import { type TokenEventType, tokenStream } from './token.events';
import { type TokenRow, tokenIsActive, type TokensHandle } from './tokens.projection';

/**
 * Resolves a bearer secret to a principal. The secret is hashed first, so the look-up is by
 * digest (nothing secret-dependent is compared byte by byte); the environment admin token
 * is compared in constant time.
 */
export class AuthService {
  private readonly envAdminSha256?: Buffer;
  /** Look-ups by digest, valid while the tokens read model has not changed (revocations included). */
  private readonly cache = new Map<string, { handle: TokensHandle; version: number; row: TokenRow | undefined }>();
  /** Whether the store holds a revocation of the token (shared store only). */
  private readonly revokedInStore?: FreshRead<string, boolean>;

  constructor(
    private readonly tokens: () => TokensHandle,
    private readonly ryw: ReadYourWrites,
    envAdminToken: string | undefined,
    private readonly now: () => Date = () => new Date(),
    /**
     * Given when several instances share the store: a token revoked through another instance
     * must stop working here as soon as that DELETE returned, before this instance's read
     * models have applied it. A known token is then checked against its own stream in the
     * store (one indexed read of its last event, shared by concurrent requests), instead of
     * waiting for the read models to reach the store's head, which other instances' writes
     * keep moving.
     */
    sharedStore?: Pick<EventStore, 'readStream'>,
  ) {
    this.envAdminSha256 = envAdminToken ? sha256(envAdminToken) : undefined;
    if (sharedStore) {
      this.revokedInStore = new FreshRead(async (tokenId: string) => {
        try {
          const [last] = await sharedStore.readStream(tokenStream(tokenId), { direction: 'backwards', maxCount: 1 });
          return last !== undefined && REVOCATIONS.has(last.type);
        } catch (err) {
          // Issued through the read model, so its stream exists; a missing one is not ours to trust.
          if (err instanceof StreamNotFoundError) return true;
          throw err;
        }
      });
    }
  }

  async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
    const secret = bearer(authorization);
    if (!secret) return undefined;
    const digest = sha256(secret);
    const sha = digest.toString('hex');
    if (this.envAdminSha256 && digestsEqual(digest, this.envAdminSha256)) {
      return { kind: 'management', tokenId: 'env:ADMIN_TOKEN', role: 'admin', pii: true, sha256Prefix: sha.slice(0, 8) };
    }
    // Only a miss waits for the read model (on a shared store, for the store's head): a token
    // created a moment ago, by this instance or another, is then found, while every other
    // request authenticates without waiting.
    let row = this.lookUp(sha);
    if (!row && (await this.ryw.settle())) row = this.lookUp(sha);
    if (!row || !digestsEqual(row.sha256, digest) || !tokenIsActive(row, this.now())) return undefined;
    if (this.revokedInStore && (await this.revokedInStore.get(row.id))) return undefined;
    if (row.kind === 'scim') {
      return { kind: 'scim', tokenId: row.id, scope: row.scope ?? '', sha256Prefix: sha.slice(0, 8) };
    }
    return { kind: 'management', tokenId: row.id, role: row.role ?? 'auditor', pii: row.pii || row.role !== 'auditor', sha256Prefix: sha.slice(0, 8) };
  }

  private lookUp(sha: string): TokenRow | undefined {
    const handle = this.tokens();
    const hit = this.cache.get(sha);
    if (hit && hit.handle === handle && hit.version === handle.version) return hit.row;
    const row = handle.bySha256(sha);
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(sha, { handle, version: handle.version, row });
    return row;
  }
}

const REVOCATIONS = new Set<string>(['ScimTokenRevoked', 'ManagementTokenRevoked'] satisfies TokenEventType[]);

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
