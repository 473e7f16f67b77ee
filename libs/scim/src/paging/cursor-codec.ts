import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { ScimError } from '../scim-error';

/**
 * Where a cursor page ends: the creation position of the last resource served (`seq`, unique
 * and never changed, the tie-breaker of every order) and, for a `sortBy` walk, that resource's
 * sort key as the read model compares it.
 */
export interface CursorPosition {
  readonly seq: number;
  readonly key?: string | number | null;
}

/** What a cursor is bound to: the client must repeat the same query with only `cursor` changed. */
export interface CursorBinding {
  /** The SCIM scope of the token that walks (a cursor never opens another scope). */
  readonly scope: string;
  /** Resource type and the query's parameters, in a fixed order (see `queryFingerprint`). */
  readonly query: readonly (string | undefined)[];
  readonly count: number;
}

export interface CursorCodecOptions {
  /** 32 bytes every instance shares (see CursorKeyring); the codec derives its own key from it. */
  readonly secret: Uint8Array;
  /** Seconds a cursor stays usable after it was issued (`pagination.cursorTimeout`). */
  readonly timeoutSeconds: number;
  readonly now: () => Date;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Far larger than any cursor this codec issues; refuses an oversized parameter before any work. */
const MAX_CURSOR_CHARS = 2048;

interface Payload {
  /** scope */
  s: string;
  /** query fingerprint */
  q: string;
  /** count */
  c: number;
  /** issued at, seconds since the epoch */
  t: number;
  /** position: [seq] or [seq, key] */
  p: [number] | [number, string | number | null];
}

/** A 128-bit digest of the query a cursor belongs to: a changed filter or order no longer matches. */
export function queryFingerprint(parts: readonly (string | undefined)[]): string {
  return createHash('sha256').update(JSON.stringify(parts.map((p) => p ?? null))).digest('base64url').slice(0, 22);
}

/**
 * RFC 9865 cursors: opaque, URL-safe (base64url: unreserved characters only) and sealed with
 * AES-256-GCM. Authenticated encryption rather than a bare HMAC because a `sortBy` position holds
 * the last resource's sort key (a userName is personal data, and cursors end up in proxy logs):
 * the GCM tag makes every change of a byte detectable, the encryption keeps the value unreadable.
 * The nonce is random (96 bits) per cursor; NIST SP 800-38D bounds a key with random nonces at
 * 2^32 messages, decades of cursors at a busy directory's paging rate.
 *
 * Checks in this order: unreadable, forged or foreign (another scope or query) → `invalidCursor`;
 * same query with another `count` → `invalidCount`; older than the timeout → `expiredCursor`.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(private readonly options: CursorCodecOptions) {
    if (options.secret.length < 32) throw new Error('the cursor secret must hold at least 32 bytes');
    // A key of its own for this one purpose, so the shared secret can serve other purposes later.
    this.key = Buffer.from(hkdfSync('sha256', options.secret, Buffer.alloc(0), 'scim-cursor-v1', 32));
  }

  get timeoutSeconds(): number {
    return this.options.timeoutSeconds;
  }

  encode(binding: CursorBinding, position: CursorPosition): string {
    const payload: Payload = {
      s: binding.scope,
      q: queryFingerprint(binding.query),
      c: binding.count,
      t: Math.floor(this.options.now().getTime() / 1000),
      p: position.key === undefined ? [position.seq] : [position.seq, position.key],
    };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.of(VERSION));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  decode(cursor: string, binding: CursorBinding): CursorPosition {
    const payload = this.open(cursor);
    if (payload.s !== binding.scope || payload.q !== queryFingerprint(binding.query)) {
      throw invalidCursor('The cursor belongs to another query; repeat the query that returned it with only cursor changed');
    }
    if (payload.c !== binding.count) {
      throw new ScimError(400, 'invalidCount', `count must stay ${payload.c} while walking with this cursor`, 'count');
    }
    const age = this.options.now().getTime() / 1000 - payload.t;
    if (age > this.options.timeoutSeconds) {
      throw new ScimError(400, 'expiredCursor', `The cursor expired (cursors last ${this.options.timeoutSeconds} seconds); start again with an empty cursor`, 'cursor');
    }
    return payload.p.length === 1 ? { seq: payload.p[0] } : { seq: payload.p[0], key: payload.p[1] };
  }

  private open(cursor: string): Payload {
    if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
    const bytes = Buffer.from(cursor, 'base64url');
    // base64url decoding ignores the spare low bits of the last character: two spellings of one
    // byte string would both be accepted. Only the one this codec writes is.
    if (bytes.toString('base64url') !== cursor) throw invalidCursor();
    if (bytes.length < 1 + IV_BYTES + TAG_BYTES + 2 || bytes[0] !== VERSION) throw invalidCursor();
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const sealed = bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES);
    let text: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(bytes.subarray(0, 1));
      decipher.setAuthTag(tag);
      text = Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
    } catch {
      throw invalidCursor();
    }
    const payload = JSON.parse(text) as Payload;
    if (!isPayload(payload)) throw invalidCursor();
    return payload;
  }
}

function invalidCursor(detail = 'The cursor is not one this server issued'): ScimError {
  return new ScimError(400, 'invalidCursor', detail, 'cursor');
}

/** Only this codec's own payloads get past the tag; the shape check guards against its own bugs. */
function isPayload(p: unknown): p is Payload {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  const pos = o.p;
  return (
    typeof o.s === 'string' &&
    typeof o.q === 'string' &&
    Number.isSafeInteger(o.c) &&
    Number.isSafeInteger(o.t) &&
    Array.isArray(pos) &&
    (pos.length === 1 || pos.length === 2) &&
    Number.isSafeInteger(pos[0]) &&
    (pos.length === 1 || pos[1] === null || typeof pos[1] === 'string' || typeof pos[1] === 'number')
  );
}
