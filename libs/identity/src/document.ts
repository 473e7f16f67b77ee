import type { AttributeDocument, FieldChange } from './events';

/**
 * Field-level helpers over attribute documents. Paths are top-level attribute names, or
 * `<extension urn>:<attribute>` for extension attributes, so that a diff names exactly what
 * an IdP changed (`urn:…:enterprise:2.0:User:department`).
 */
const FIELD_EXCLUDED = new Set(['userName', 'externalId', 'active']);

export function isExtensionKey(key: string): boolean {
  return key.toLowerCase().startsWith('urn:');
}

export function diffDocuments(before: AttributeDocument, after: AttributeDocument): FieldChange[] {
  const changes: FieldChange[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of [...keys].sort()) {
    if (FIELD_EXCLUDED.has(key)) continue;
    const a = before[key];
    const b = after[key];
    if (isExtensionKey(key) && isPlainObject(a ?? {}) && isPlainObject(b ?? {})) {
      const ea = (a ?? {}) as AttributeDocument;
      const eb = (b ?? {}) as AttributeDocument;
      for (const sub of [...new Set([...Object.keys(ea), ...Object.keys(eb)])].sort()) {
        if (!deepEqual(ea[sub], eb[sub])) changes.push(change(`${key}:${sub}`, ea[sub], eb[sub]));
      }
      continue;
    }
    if (!deepEqual(a, b)) changes.push(change(key, a, b));
  }
  return changes;
}

export function applyChanges(doc: AttributeDocument, changes: readonly FieldChange[]): AttributeDocument {
  const next: Record<string, unknown> = { ...doc };
  for (const c of changes) {
    const ext = splitExtensionPath(c.path);
    if (ext) {
      const inner: Record<string, unknown> = { ...((next[ext.urn] as AttributeDocument | undefined) ?? {}) };
      if (c.to === undefined) delete inner[ext.attribute];
      else inner[ext.attribute] = c.to;
      if (Object.keys(inner).length === 0) delete next[ext.urn];
      else next[ext.urn] = inner;
    } else if (c.to === undefined) {
      delete next[c.path];
    } else {
      next[c.path] = c.to;
    }
  }
  return next;
}

/** `urn:a:b:User:department` → { urn: 'urn:a:b:User', attribute: 'department' }. */
function splitExtensionPath(path: string): { urn: string; attribute: string } | undefined {
  if (!isExtensionKey(path)) return undefined;
  const i = path.lastIndexOf(':');
  return { urn: path.slice(0, i), attribute: path.slice(i + 1) };
}

/** The account's email as GitLab would pick it: the primary email, else the first. */
export function primaryEmail(doc: AttributeDocument): string | undefined {
  const emails = doc.emails;
  if (!Array.isArray(emails) || emails.length === 0) return undefined;
  const primary = emails.find((e) => isPlainObject(e) && e.primary === true) ?? emails[0];
  const value = isPlainObject(primary) ? primary.value : undefined;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function displayNameOf(doc: AttributeDocument): string | undefined {
  if (typeof doc.displayName === 'string') return doc.displayName;
  const name = doc.name as Record<string, unknown> | undefined;
  if (name && typeof name.formatted === 'string') return name.formatted;
  const parts = [name?.givenName, name?.familyName].filter((p): p is string => typeof p === 'string');
  return parts.length ? parts.join(' ') : undefined;
}

function change(path: string, from: unknown, to: unknown): FieldChange {
  return { path, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}
