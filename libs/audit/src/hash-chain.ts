import { createHash } from 'node:crypto';
import type { AuditEnvelope } from './audit-envelope';

export const GENESIS = '0'.repeat(64);

/**
 * RFC 8785 (JCS) canonical JSON: the same envelope always hashes the same, whoever
 * serialises it. Written here because the `canonicalize` package only offers an `import`
 * entry point, which our CommonJS build cannot load; for JSON data the scheme is exactly
 * this: object keys sorted by UTF-16 code units, ECMAScript number and string serialisation
 * (which JSON.stringify implements), no whitespace.
 */
export function canonical(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('Cannot canonicalise a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  throw new Error(`Cannot canonicalise a ${typeof value}`);
}

/** h_i = SHA-256(h_{i-1} || canonical(envelope_i)), hex. */
export function chainHash(previous: string, envelope: AuditEnvelope): string {
  return createHash('sha256').update(previous, 'utf8').update(canonical(envelope), 'utf8').digest('hex');
}
