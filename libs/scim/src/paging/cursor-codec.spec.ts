import { CursorCodec, type CursorBinding } from './cursor-codec';
import { ScimError } from '../scim-error';

const secret = Buffer.alloc(32, 7);
const binding: CursorBinding = { scope: 'application', query: ['User', 'active eq true', 'userName', 'ascending', undefined, undefined], count: 50 };

function codecAt(clock: { now: Date }, key = secret, timeoutSeconds = 600) {
  return new CursorCodec({ secret: key, timeoutSeconds, now: () => clock.now });
}

function scimTypeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimError) return `${err.status} ${err.scimType}`;
    throw err;
  }
  return undefined;
}

describe('CursorCodec', () => {
  const clock = { now: new Date('2026-12-01T10:00:00Z') };
  const codec = codecAt(clock);

  it('returns the position it sealed, with or without a sort key (null included)', () => {
    expect(codec.decode(codec.encode(binding, { seq: 42 }), binding)).toEqual({ seq: 42 });
    expect(codec.decode(codec.encode(binding, { seq: 42, key: 'jane@acme.example' }), binding)).toEqual({ seq: 42, key: 'jane@acme.example' });
    expect(codec.decode(codec.encode(binding, { seq: 7, key: null }), binding)).toEqual({ seq: 7, key: null });
    expect(codec.decode(codec.encode(binding, { seq: 7, key: 3 }), binding)).toEqual({ seq: 7, key: 3 });
  });

  it('is opaque and URL-safe: unreserved characters only, no sort key readable', () => {
    const cursor = codec.encode(binding, { seq: 42, key: 'jane@acme.example' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encodeURIComponent(cursor)).toBe(cursor);
    expect(Buffer.from(cursor, 'base64url').toString('latin1')).not.toContain('jane');
  });

  it('refuses a cursor with any one character changed (invalidCursor)', () => {
    const cursor = codec.encode(binding, { seq: 42, key: 'jane@acme.example' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < cursor.length; i++) {
      // Two replacements per position: the next character and the one half the alphabet away.
      for (const shift of [1, 32]) {
        const c = alphabet[(alphabet.indexOf(cursor[i]) + shift) % alphabet.length];
        const tampered = cursor.slice(0, i) + c + cursor.slice(i + 1);
        expect([i, scimTypeOf(() => codec.decode(tampered, binding))]).toEqual([i, '400 invalidCursor']);
      }
    }
  });

  it('refuses every byte of the sealed cursor flipped, truncations, extensions and garbage (invalidCursor)', () => {
    const bytes = Buffer.from(codec.encode(binding, { seq: 42 }), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i] ^= 0x01;
      expect([i, scimTypeOf(() => codec.decode(flipped.toString('base64url'), binding))]).toEqual([i, '400 invalidCursor']);
    }
    const cursor = bytes.toString('base64url');
    for (const bad of [cursor.slice(0, -1), cursor.slice(0, 10), `${cursor}A`, `${cursor}==`, 'x', 'a.b', 'p:12', ' ', 'é', 'A'.repeat(5000)]) {
      expect([bad.slice(0, 20), scimTypeOf(() => codec.decode(bad, binding))]).toEqual([bad.slice(0, 20), '400 invalidCursor']);
    }
  });

  it('refuses a cursor sealed with another key (another deployment) as invalidCursor', () => {
    const other = codecAt(clock, Buffer.alloc(32, 8));
    expect(scimTypeOf(() => codec.decode(other.encode(binding, { seq: 1 }), binding))).toBe('400 invalidCursor');
  });

  it('binds the scope and the query: another scope, resource type, filter, order or attributes is invalidCursor', () => {
    const cursor = codec.encode(binding, { seq: 42 });
    const variants: CursorBinding[] = [
      { ...binding, scope: 'group:acme' },
      { ...binding, query: ['Group', ...binding.query.slice(1)] },
      { ...binding, query: ['User', 'active eq false', 'userName', 'ascending', undefined, undefined] },
      { ...binding, query: ['User', 'active eq true', 'userName', 'descending', undefined, undefined] },
      { ...binding, query: ['User', 'active eq true', undefined, 'ascending', undefined, undefined] },
      { ...binding, query: ['User', 'active eq true', 'userName', 'ascending', 'userName', undefined] },
    ];
    for (const v of variants) expect(scimTypeOf(() => codec.decode(cursor, v))).toBe('400 invalidCursor');
  });

  it('refuses the same query with another count as invalidCount', () => {
    const cursor = codec.encode(binding, { seq: 42 });
    expect(scimTypeOf(() => codec.decode(cursor, { ...binding, count: 51 }))).toBe('400 invalidCount');
  });

  it('expires a cursor after the timeout on the injected clock (expiredCursor), not before', () => {
    const moving = { now: new Date('2026-12-01T10:00:00Z') };
    const c = codecAt(moving, secret, 600);
    const cursor = c.encode(binding, { seq: 42 });
    moving.now = new Date('2026-12-01T10:10:00Z');
    expect(c.decode(cursor, binding)).toEqual({ seq: 42 });
    moving.now = new Date('2026-12-01T10:10:01Z');
    expect(scimTypeOf(() => c.decode(cursor, binding))).toBe('400 expiredCursor');
  });

  it('issues a different cursor each time for one position (random nonce), each valid', () => {
    const a = codec.encode(binding, { seq: 42 });
    const b = codec.encode(binding, { seq: 42 });
    expect(a).not.toBe(b);
    expect(codec.decode(b, binding)).toEqual({ seq: 42 });
  });
});
