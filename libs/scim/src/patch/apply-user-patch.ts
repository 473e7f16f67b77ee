import { ScimError } from '../scim-error';
import type { FilterNode, Resolver } from '../filter/filter.ast';
import { matchesFilter } from '../filter/filter.evaluate';
import { toBoolean } from '../schema/normalize';
import type { ResolvedAttribute } from '../schema/schema.types';
import { type PatchOperation, type PatchPath, parsePatchBody, parsePatchPath } from './patch.parser';

type Plain = Record<string, unknown>;

const IGNORED = new Set(['schemas', 'meta', 'groups', 'password']);

export interface PatchResult {
  readonly doc: Plain;
  /** Canonical paths the request touched, for the event's field-level diff. */
  readonly changedPaths: string[];
}

/**
 * Applies a PATCH to a User document (canonical names, extension under its URN, `active`
 * included), in every dialect IdPs send: Okta's pathless objects, Entra's capitalised ops,
 * string booleans, value paths that create the entry they name, manager as a plain id,
 * aadOptscim062020's pathless values keyed by paths. Atomic: it works on a copy and throws
 * on the first invalid operation, so nothing is applied unless everything is.
 */
export function applyUserPatch(doc: Plain, body: unknown, resolve: Resolver, context: { id?: string } = {}): PatchResult {
  const ops = parsePatchBody(body);
  const work = structuredClone(doc) as Plain;
  const changed = new Set<string>();
  for (const op of ops) {
    const extension = op.path?.trim().toLowerCase().startsWith('urn:') ? resolveExtensionObject(op.path.trim(), resolve) : undefined;
    if (op.path === undefined) applyPathless(work, op, resolve, context, changed);
    else if (extension) applyExtensionObject(work, op, extension, resolve, context, changed);
    else applyAtPath(work, op, op.path, op.value, resolve, context, changed);
  }
  return { doc: work, changedPaths: [...changed] };
}

function applyPathless(work: Plain, op: PatchOperation, resolve: Resolver, context: { id?: string }, changed: Set<string>): void {
  if (op.op === 'remove') throw ScimError.noTarget('remove needs a path');
  if (typeof op.value !== 'object' || op.value === null || Array.isArray(op.value)) {
    throw ScimError.invalidValue('A PATCH operation without a path needs an object value', 'value');
  }
  for (const [key, value] of Object.entries(op.value as Plain)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const lower = key.toLowerCase();
    if (IGNORED.has(lower)) continue;
    const extension = lower.startsWith('urn:') ? resolveExtensionObject(key, resolve) : undefined;
    if (extension) {
      // The whole extension object under its URN: each of its attributes is a path.
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) throw ScimError.invalidValue(`${extension} must be an object`, extension);
      for (const [k, v] of Object.entries(value as Plain)) {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
        applyAtPath(work, op, `${extension}:${k}`, v, resolve, context, changed);
      }
      continue;
    }
    if (!resolve(key)) continue; // Unknown attributes are ignored, as in a POST body.
    applyAtPath(work, op, key, value, resolve, context, changed);
  }
}

/**
 * A path that is an extension schema URN alone names the extension object: remove drops it,
 * add and replace apply each attribute of the value at its own path (as a pathless value
 * keyed by the URN does), so attributes the client did not name are kept.
 */
function applyExtensionObject(work: Plain, op: PatchOperation, extension: string, resolve: Resolver, context: { id?: string }, changed: Set<string>): void {
  if (op.op === 'remove' || op.value === null) {
    if (work[extension] !== undefined) changed.add(extension);
    delete work[extension];
    return;
  }
  applyPathless(work, { ...op, path: undefined, value: { [extension]: op.value } }, resolve, context, changed);
}

function resolveExtensionObject(key: string, resolve: Resolver): string | undefined {
  // `urn:…:enterprise:2.0:User` alone names no attribute but the extension object.
  const probe = resolve(`${key}:employeeNumber`);
  return probe && probe.schema.toLowerCase() === key.toLowerCase() ? probe.schema : undefined;
}

function applyAtPath(
  work: Plain,
  op: PatchOperation,
  rawPath: string,
  value: unknown,
  resolve: Resolver,
  context: { id?: string },
  changed: Set<string>,
): void {
  const lower = rawPath.toLowerCase();
  if (IGNORED.has(lower)) return;
  const path = parsePatchPath(rawPath, resolve);
  const { attr } = path;
  const name = attr.attribute.name;
  if (!isExtension(attr) && name === 'id') {
    if (op.op !== 'remove' && value === context.id) return;
    throw ScimError.mutability('id cannot be changed', 'id');
  }
  if (!isExtension(attr) && (name === 'meta' || name === 'groups' || name === 'password')) return;
  if (attr.attribute.mutability === 'readOnly') throw ScimError.mutability(`${attr.canonicalPath} is read-only`, attr.canonicalPath);
  changed.add(attr.canonicalPath.split('.')[0]);
  const holder = containerFor(work, attr, op.op !== 'remove');
  if (!holder) return;

  if (path.filter) return applyFiltered(holder, op, path, value, attr);

  const clears = op.op === 'remove' || value === null || value === '' || (Array.isArray(value) && value.length === 0 && !attr.attribute.multiValued);
  if (attr.subAttribute) {
    const sub = attr.subAttribute.name;
    const current = holder[name];
    if (attr.attribute.multiValued) {
      const list = Array.isArray(current) ? (current as Plain[]) : [];
      if (clears) {
        for (const e of list) if (isPlain(e)) delete e[sub];
      } else if (list.length === 0) {
        holder[name] = [{ [sub]: value }];
      } else {
        for (const e of list) if (isPlain(e)) e[sub] = value;
      }
      return;
    }
    const obj = isPlain(current) ? current : {};
    if (clears) delete obj[sub];
    else obj[sub] = coerce(attr, value);
    if (Object.keys(obj).length > 0) holder[name] = obj;
    else delete holder[name];
    cleanExtension(work, attr);
    return;
  }

  if (op.op === 'remove' && attr.attribute.multiValued && op.hasValue && value !== null && value !== undefined) {
    // Remove only the listed values (`{"op":"remove","path":"emails","value":[{"value":"a@x"}]}`).
    const drop = (Array.isArray(value) ? value : [value]).map((v) => (isPlain(v) ? v.value : v));
    const list = Array.isArray(holder[name]) ? (holder[name] as unknown[]) : [];
    const kept = list.filter((e) => !drop.some((d) => d !== undefined && isPlain(e) && e.value === d));
    if (kept.length > 0) holder[name] = kept;
    else delete holder[name];
    return;
  }
  if (clears) {
    if (!isExtension(attr) && name === 'userName') throw ScimError.invalidValue('userName cannot be removed', 'userName');
    delete holder[name];
    cleanExtension(work, attr);
    return;
  }
  if (attr.attribute.multiValued) {
    const incoming = (Array.isArray(value) ? value : [value]) as unknown[];
    const existing = op.op === 'add' && Array.isArray(holder[name]) ? (holder[name] as unknown[]) : [];
    const merged = [...existing];
    for (const item of incoming) if (!merged.some((m) => deepEqual(m, item))) merged.push(item);
    if (incoming.some((i) => isPlain(i) && isTrue(i.primary))) {
      for (const m of merged) if (isPlain(m) && !incoming.includes(m) && isTrue(m.primary)) m.primary = false;
    }
    holder[name] = merged;
    return;
  }
  if (attr.attribute.type === 'complex') {
    const incoming = complexValue(attr, value);
    if (incoming === undefined) {
      delete holder[name];
      cleanExtension(work, attr);
      return;
    }
    // RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged (add and replace alike).
    holder[name] = { ...(isPlain(holder[name]) ? (holder[name] as Plain) : {}), ...incoming };
    return;
  }
  holder[name] = coerce(attr, value);
}

/** `emails[type eq "work"].value`: change matching elements, or create the element it names. */
function applyFiltered(holder: Plain, op: PatchOperation, path: PatchPath, value: unknown, attr: ResolvedAttribute): void {
  const name = attr.attribute.name;
  const list = Array.isArray(holder[name]) ? (holder[name] as unknown[]) : [];
  const matches = (e: unknown) => isPlain(e) && matchesFilter(path.filter as FilterNode, wrap(attr, e));
  if (op.op === 'remove') {
    const kept = path.sub ? list : list.filter((e) => !matches(e));
    if (path.sub) for (const e of list) if (matches(e)) delete (e as Plain)[path.sub];
    if (kept.length > 0) holder[name] = kept;
    else delete holder[name];
    return;
  }
  const clears = value === null || value === '';
  const hits = list.filter(matches) as Plain[];
  if (hits.length === 0) {
    if (clears) return;
    const created: Plain = { ...equalities(path.filter as FilterNode) };
    if (path.sub) created[path.sub] = value;
    else if (isPlain(value)) Object.assign(created, value);
    else created.value = value;
    holder[name] = [...list, created];
    return;
  }
  for (const e of hits) {
    if (path.sub) {
      if (clears) delete e[path.sub];
      else e[path.sub] = value;
    } else if (isPlain(value)) {
      Object.assign(e, value);
    } else if (clears) {
      list.splice(list.indexOf(e), 1);
    } else {
      e.value = value;
    }
  }
  if (list.length > 0) holder[name] = list;
  else delete holder[name];
}

/** The attribute = value conditions of a filter, to fill a newly created element. */
function equalities(node: FilterNode): Plain {
  if (node.kind === 'compare' && node.op === 'eq' && node.attr.subAttribute) return { [node.attr.subAttribute.name]: node.value };
  if (node.kind === 'and') return { ...equalities(node.left), ...equalities(node.right) };
  return {};
}

function complexValue(attr: ResolvedAttribute, value: unknown): Plain | undefined {
  if (attr.attribute.name === 'manager') {
    // Entra: a plain id, or [{"$ref": …, "value": id}]; "" removes the manager.
    if (typeof value === 'string') return value === '' ? undefined : { value };
    if (Array.isArray(value)) return value.length === 0 ? undefined : complexValue(attr, value[0]);
  }
  if (!isPlain(value)) throw ScimError.invalidValue(`${attr.canonicalPath} must be an object`, attr.canonicalPath);
  return value;
}

function coerce(attr: ResolvedAttribute, value: unknown): unknown {
  const def = attr.subAttribute ?? attr.attribute;
  if (def.type === 'boolean') return toBoolean(value, attr.canonicalPath);
  return value;
}

function containerFor(work: Plain, attr: ResolvedAttribute, create: boolean): Plain | undefined {
  if (!isExtension(attr)) return work;
  const ext = work[attr.schema];
  if (isPlain(ext)) return ext;
  if (!create) return undefined;
  const made: Plain = {};
  work[attr.schema] = made;
  return made;
}

function cleanExtension(work: Plain, attr: ResolvedAttribute): void {
  if (isExtension(attr) && isPlain(work[attr.schema]) && Object.keys(work[attr.schema] as Plain).length === 0) delete work[attr.schema];
}

function wrap(attr: ResolvedAttribute, element: unknown): Plain {
  return isExtension(attr) ? { [attr.schema]: { [attr.attribute.name]: element } } : { [attr.attribute.name]: element };
}

function isExtension(attr: ResolvedAttribute): boolean {
  return attr.canonicalPath.toLowerCase().startsWith('urn:');
}

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTrue(v: unknown): boolean {
  return v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
