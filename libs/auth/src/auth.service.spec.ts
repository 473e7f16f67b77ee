import type { ReadYourWrites } from '@app/projections';
import { AuthService } from './auth.service';
import { sha256Hex } from './token-secret';
import type { TokenRow, TokensHandle } from './tokens.projection';

const SECRET = 'scimtok_test-secret';

/**
 * A tokens read model whose revocation only lands when read-your-writes settles, as on an
 * instance whose projections have not yet applied another instance's DELETE.
 */
function fixture() {
  let row: TokenRow = {
    id: 't1', kind: 'scim', scope: 'application', role: null, name: null, sha256: sha256Hex(SECRET),
    pii: false, expiresAt: null, revokedAt: null, createdAt: '2026-01-01T00:00:00Z', bootstrap: false,
  };
  let version = 0;
  let revokedInStore = false;
  const handle = {
    bySha256: (sha: string) => (sha === row.sha256 ? row : undefined),
    get version() {
      return version;
    },
  } as unknown as TokensHandle;
  const ryw = {
    settle: () => {
      if (revokedInStore && !row.revokedAt) {
        row = { ...row, revokedAt: '2026-01-01T00:01:00Z' };
        version++;
      }
      return Promise.resolve(true);
    },
  } as unknown as ReadYourWrites;
  return { handle, ryw, revokeElsewhere: () => (revokedInStore = true) };
}

describe('AuthService', () => {
  it('on a shared store, a token revoked through another instance is refused once the store has the revocation', async () => {
    const f = fixture();
    const auth = new AuthService(() => f.handle, f.ryw, undefined, undefined, true);
    expect(await auth.authenticate(`Bearer ${SECRET}`)).toMatchObject({ kind: 'scim', tokenId: 't1' });
    f.revokeElsewhere();
    expect(await auth.authenticate(`Bearer ${SECRET}`)).toBeUndefined();
  });

  it('on the embedded store, a known token answers without waiting for the read models', async () => {
    const f = fixture();
    const settle = jest.spyOn(f.ryw, 'settle');
    const auth = new AuthService(() => f.handle, f.ryw, undefined);
    expect(await auth.authenticate(`Bearer ${SECRET}`)).toMatchObject({ tokenId: 't1' });
    expect(settle).not.toHaveBeenCalled();
  });
});

