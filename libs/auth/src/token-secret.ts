import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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

export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}
