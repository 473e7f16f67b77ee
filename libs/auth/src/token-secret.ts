import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Recognisable prefixes let secret scanners find leaked tokens (as GitLab's `glpat-`).
 * 32 random bytes: brute force is out of reach, so an unsalted SHA-256 is the right hash
 * (a slow password hash would only slow every request down).
 */
export const SCIM_TOKEN_PREFIX = 'scimtok_';
export const MANAGEMENT_TOKEN_PREFIX = 'scimadm_';

export function generateSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

// The one-shot `hash` costs a third of a `createHash` object, and every request hashes its token.
export function sha256Hex(secret: string): string {
  return hash('sha256', secret, 'hex');
}

export function sha256(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** Constant-time comparison of two digests of equal length (hex text or bytes). */
export function digestsEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ba = typeof a === 'string' ? Buffer.from(a, 'hex') : a;
  const bb = typeof b === 'string' ? Buffer.from(b, 'hex') : b;
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}
