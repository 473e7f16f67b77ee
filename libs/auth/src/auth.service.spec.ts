import type { EventStore, RecordedEvent } from '@app/event-store';
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
  // The store itself: the token's stream gains its revocation as soon as the DELETE returned.
  const event = (revision: bigint, type: string) => ({ streamId: 'token-t1', revision, type }) as RecordedEvent;
  const store = {
    readStream: jest.fn(async () => [revokedInStore ? event(1n, 'ScimTokenRevoked') : event(0n, 'ScimTokenIssued')]),
  } as unknown as Pick<EventStore, 'readStream'> & { readStream: jest.Mock };
  return { handle, ryw, store, revokeElsewhere: () => (revokedInStore = true) };
}

describe('AuthService', () => {
  it('on a shared store, a token revoked through another instance is refused once the store has the revocation', async () => {
    const f = fixture();
    const auth = new AuthService(() => f.handle, f.ryw, undefined, undefined, f.store);
    expect(await auth.authenticate(`Bearer ${SECRET}`)).toMatchObject({ kind: 'scim', tokenId: 't1' });
    f.revokeElsewhere();
    expect(await auth.authenticate(`Bearer ${SECRET}`)).toBeUndefined();
  });

  it('on a shared store, a known token is checked against its own stream, without waiting for the store head', async () => {
    const f = fixture();
    const settle = jest.spyOn(f.ryw, 'settle');
    const auth = new AuthService(() => f.handle, f.ryw, undefined, undefined, f.store);
    const answers = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(`Bearer ${SECRET}`)));
    expect(answers.every((a) => a?.tokenId === 't1')).toBe(true);
    expect(settle).not.toHaveBeenCalled();
    // Concurrent requests share the reads of the token's stream: one in flight, one queued.
    expect(f.store.readStream.mock.calls.length).toBeLessThanOrEqual(2);
    expect(f.store.readStream).toHaveBeenCalledWith('token-t1', { direction: 'backwards', maxCount: 1 });
  });

  it('on a shared store, a check that started before the request is not the answer to it', async () => {
    const f = fixture();
    const auth = new AuthService(() => f.handle, f.ryw, undefined, undefined, f.store);
    const before = auth.authenticate(`Bearer ${SECRET}`);
    // Revoked while the first check is in flight: a request arriving now must see it.
    f.revokeElsewhere();
    const after = auth.authenticate(`Bearer ${SECRET}`);
    expect(await before).toBeDefined();
    expect(await after).toBeUndefined();
  });

  it('on the embedded store, a known token answers without waiting for the read models', async () => {
    const f = fixture();
    const settle = jest.spyOn(f.ryw, 'settle');
    const auth = new AuthService(() => f.handle, f.ryw, undefined);
    expect(await auth.authenticate(`Bearer ${SECRET}`)).toMatchObject({ tokenId: 't1' });
    expect(settle).not.toHaveBeenCalled();
  });
});

