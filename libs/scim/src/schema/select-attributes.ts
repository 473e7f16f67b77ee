import { resolveAttribute, type ResourceTypeName } from './resolve';
import type { ResolvedAttribute } from './schema.types';

export interface AttributeSelection {
  readonly attributes?: string;
  readonly excludedAttributes?: string;
}

type Plain = Record<string, unknown>;

/** Attributes returned whatever the selection says (RFC 7643 `returned: always`). */
const ALWAYS = new Set(['id', 'schemas']);

/**
 * RFC 7644 §3.9: `attributes` lists what to return (plus the always-returned ones),
 * `excludedAttributes` what to leave out; `attributes` wins when both are given. Names may
 * be URN-qualified or name sub-attributes; unknown names are ignored.
 */
export function applyAttributeSelection(resource: Plain, type: ResourceTypeName, query: AttributeSelection): Plain {
  const include = parseList(type, query.attributes);
  if (include && include.length > 0) {
    const out: Plain = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key];
    for (const r of include) copyPath(resource, out, r);
    return out;
  }
  const exclude = parseList(type, query.excludedAttributes);
  if (!exclude || exclude.length === 0) return resource;
  const out: Plain = structuredClone(resource);
  for (const r of exclude) if (!ALWAYS.has(r.attribute.name)) removePath(out, r);
  return out;
}

/** Whether a response with this selection includes `path`: lets callers skip expensive reads. */
export function wantsAttribute(type: ResourceTypeName, query: AttributeSelection, path: string): boolean {
  const target = resolveAttribute(type, path);
  if (!target) return false;
  const include = parseList(type, query.attributes);
  if (include && include.length > 0) return include.some((r) => r.attribute === target.attribute);
  const exclude = parseList(type, query.excludedAttributes);
  return !exclude?.some((r) => r.attribute === target.attribute && !r.subAttribute);
}

function parseList(type: ResourceTypeName, list: string | undefined): ResolvedAttribute[] | undefined {
  if (list === undefined) return undefined;
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => resolveAttribute(type, s))
    .filter((r): r is ResolvedAttribute => r !== undefined);
}

/** Where the attribute lives in a rendered resource: extension attributes sit under their URN. */
function container(resource: Plain, r: ResolvedAttribute, create: boolean): Plain | undefined {
  const core = !r.canonicalPath.toLowerCase().startsWith('urn:');
  if (core) return resource;
  const ext = resource[r.schema];
  if (ext && typeof ext === 'object') return ext as Plain;
  if (!create) return undefined;
  const made: Plain = {};
  resource[r.schema] = made;
  return made;
}

function copyPath(from: Plain, to: Plain, r: ResolvedAttribute): void {
  const source = container(from, r, false);
  if (!source || source[r.attribute.name] === undefined) return;
  const target = container(to, r, true) as Plain;
  const value = source[r.attribute.name];
  if (!r.subAttribute) {
    target[r.attribute.name] = value;
    return;
  }
  const sub = r.subAttribute.name;
  if (Array.isArray(value)) {
    const existing = (target[r.attribute.name] as Plain[] | undefined) ?? value.map(() => ({}));
    value.forEach((item, i) => {
      if (item && typeof item === 'object' && (item as Plain)[sub] !== undefined) existing[i] = { ...existing[i], [sub]: (item as Plain)[sub] };
    });
    target[r.attribute.name] = existing;
  } else if (value && typeof value === 'object' && (value as Plain)[sub] !== undefined) {
    target[r.attribute.name] = { ...((target[r.attribute.name] as Plain) ?? {}), [sub]: (value as Plain)[sub] };
  }
}

function removePath(resource: Plain, r: ResolvedAttribute): void {
  const source = container(resource, r, false);
  if (!source) return;
  if (!r.subAttribute) {
    delete source[r.attribute.name];
  } else {
    const value = source[r.attribute.name];
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) if (item && typeof item === 'object') delete (item as Plain)[r.subAttribute.name];
  }
  if (source !== resource && Object.keys(source).length === 0) delete resource[r.schema];
}
