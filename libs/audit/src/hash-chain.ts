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
  // Plain loops and concatenation: every audited event is canonicalised once on the write
  // path and again on each rebuild, and the array-building version spent most of its time
  // allocating entry pairs.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += canonical(v === undefined ? null : v);
    }
    return `${out}]`;
  }
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
    const keys = Object.keys(object).sort();
    let out = '{';
    let first = true;
    for (const key of keys) {
      const v = object[key];
      if (v === undefined) continue;
      if (!first) out += ',';
      first = false;
      out += `${quoted(key)}:${canonical(v)}`;
    }
    return `${out}}`;
  }
  throw new Error(`Cannot canonicalise a ${typeof value}`);
}

/**
 * The canonical form of an object and of the same object with a few more top-level members,
 * each member's value serialised once: an envelope (what is hashed) and its chained record
 * (what is exported) cost one canonicalisation, not two.
 */
export function canonicalWith(base: Readonly<Record<string, unknown>>, more: Readonly<Record<string, unknown>> | ((base: string) => Readonly<Record<string, unknown>>)): { base: string; full: string } {
  const members: [string, string][] = [];
  for (const key of Object.keys(base).sort()) {
    const v = base[key];
    if (v !== undefined) members.push([key, `${quoted(key)}:${canonical(v)}`]);
  }
  let b = '{';
  for (let i = 0; i < members.length; i++) b += (i ? ',' : '') + members[i][1];
  b += '}';
  const extra = typeof more === 'function' ? more(b) : more;
  const extras: [string, string][] = [];
  for (const key of Object.keys(extra).sort()) {
    const v = extra[key];
    if (v !== undefined && !Object.prototype.hasOwnProperty.call(base, key)) extras.push([key, `${quoted(key)}:${canonical(v)}`]);
  }
  let f = '{';
  let i = 0;
  let j = 0;
  while (i < members.length || j < extras.length) {
    const next = j >= extras.length || (i < members.length && members[i][0] < extras[j][0]) ? members[i++] : extras[j++];
    f += (f.length > 1 ? ',' : '') + next[1];
  }
  return { base: b, full: `${f}}` };
}

// Envelopes repeat the same few dozen keys; their JSON form is computed once. Keys inside
// event data can be anything an IdP sends, so the cache is bounded.
const quotedKeys = new Map<string, string>();
function quoted(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size >= 4096) quotedKeys.clear();
    quotedKeys.set(key, q);
  }
  return q;
}

/** h_i = SHA-256(h_{i-1} || canonical(envelope_i)), hex. */
export function chainHash(previous: string, envelope: AuditEnvelope): string {
  return chainHashOfCanonical(previous, canonical(envelope));
}

/** The same, for an envelope already in its canonical form (the stored text). */
export function chainHashOfCanonical(previous: string, canonicalEnvelope: string): string {
  return createHash('sha256').update(previous, 'utf8').update(canonicalEnvelope, 'utf8').digest('hex');
}
