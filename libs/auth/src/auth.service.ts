import { ReadYourWrites } from '@app/projections';
import type { Principal } from './principal';
import { digestsEqual, sha256Hex } from './token-secret';
import type { TokenRow, TokensHandle } from './tokens.projection';

/**
 * Resolves a bearer secret to a principal. The secret is hashed first, so the look-up is by
 * digest (nothing secret-dependent is compared byte by byte); the environment admin token
 * is compared in constant time.
 */
export class AuthService {
  private readonly envAdminSha256?: string;
  /** Look-ups by digest, valid while the tokens read model has not changed (revocations included). */
  private readonly cache = new Map<string, { handle: TokensHandle; version: number; row: TokenRow | undefined }>();

  constructor(
    private readonly tokens: () => TokensHandle,
    private readonly ryw: ReadYourWrites,
    envAdminToken: string | undefined,
    private readonly now: () => Date = () => new Date(),
    /**
     * Several instances share the store: a token revoked through another instance must stop
     * working here as soon as that DELETE returned, so every look-up first waits for the store's
     * head (bounded by READ_YOUR_WRITES_TIMEOUT_MS), not only a miss.
     */
    private readonly sharedStore = false,
  ) {
    this.envAdminSha256 = envAdminToken ? sha256Hex(envAdminToken) : undefined;
  }

  async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
    const secret = bearer(authorization);
    if (!secret) return undefined;
    const sha = sha256Hex(secret);
    if (this.envAdminSha256 && digestsEqual(sha, this.envAdminSha256)) {
      return { kind: 'management', tokenId: 'env:ADMIN_TOKEN', role: 'admin', pii: true, sha256Prefix: sha.slice(0, 8) };
    }
    // On the embedded store only a miss waits for the read model: a token created a moment ago
    // by this process is then found, while every other request authenticates without waiting.
    if (this.sharedStore) await this.ryw.settle();
    let row = this.lookUp(sha);
    if (!row && !this.sharedStore && (await this.ryw.settle())) row = this.lookUp(sha);
    if (!row || !digestsEqual(row.sha256, sha) || row.revokedAt) return undefined;
    if (row.expiresAt && Date.parse(row.expiresAt) <= this.now().getTime()) return undefined;
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

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
