import { ScimError } from '../scim-error';
import type { ResolvedAttribute } from '../schema/schema.types';
import type { FilterNode, Resolver } from '../filter/filter.ast';
import { PATCH_PATH_LIMITS } from '../filter/filter.limits';
import { parseValueFilter } from '../filter/filter.parser';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const MAX_OPERATIONS = 1000;

export interface PatchOperation {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path?: string;
  readonly value?: unknown;
  readonly hasValue: boolean;
}

/** A parsed PATCH path: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`. */
export interface PatchPath {
  readonly attr: ResolvedAttribute;
  readonly filter?: FilterNode;
  /** Sub-attribute after a value filter (`emails[type eq "work"].value`). */
  readonly sub?: string;
}

/**
 * The PatchOp envelope, in any client's spelling: `Operations` or `operations`, ops in any
 * case (`Replace`, `ADD`). A missing or empty Operations list or an unknown op is
 * `invalidSyntax`; nothing is applied unless every operation parses.
 */
export function parsePatchBody(body: unknown): PatchOperation[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ScimError.invalidSyntax('The PATCH body must be a JSON object');
  const b = body as Record<string, unknown>;
  const key = Object.keys(b).find((k) => k.toLowerCase() === 'operations');
  const ops = key === undefined ? undefined : b[key];
  if (!Array.isArray(ops) || ops.length === 0) throw ScimError.invalidSyntax('Operations must be a non-empty array');
  if (ops.length > MAX_OPERATIONS) throw ScimError.invalidSyntax(`At most ${MAX_OPERATIONS} operations per request`);
  return ops.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw ScimError.invalidSyntax(`Operations[${i}] must be an object`);
    const o = raw as Record<string, unknown>;
    const get = (name: string) => {
      const k = Object.keys(o).find((x) => x.toLowerCase() === name);
      return k === undefined ? undefined : o[k];
    };
    const opRaw = get('op');
    const op = typeof opRaw === 'string' ? opRaw.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw ScimError.invalidSyntax(`Operations[${i}].op must be add, replace or remove`);
    const path = get('path');
    if (path !== undefined && path !== null && typeof path !== 'string') throw ScimError.invalidPath(`Operations[${i}].path must be a string`);
    const hasValue = Object.keys(o).some((k) => k.toLowerCase() === 'value');
    return {
      op,
      ...(typeof path === 'string' && path.trim() !== '' ? { path: path.trim() } : {}),
      ...(hasValue ? { value: get('value') } : {}),
      hasValue,
    };
  });
}

/**
 * A PATCH path within the budget (PATCH_PATH_LIMITS, FILTER_LIMITS for its value filter):
 * a path beyond it is 400 invalidPath naming the limit, before any of it is parsed.
 */
export function parsePatchPath(path: string, resolve: Resolver): PatchPath {
  if (path.length > PATCH_PATH_LIMITS.maxLength) {
    throw ScimError.invalidPath(`The path is longer than ${PATCH_PATH_LIMITS.maxLength} characters (the limit is ${PATCH_PATH_LIMITS.maxLength})`);
  }
  const open = path.indexOf('[');
  if (open < 0) {
    const attr = resolve(path);
    if (!attr) throw ScimError.invalidPath(`The path names no attribute: ${truncate(path)}`, truncate(path));
    return { attr };
  }
  const close = path.lastIndexOf(']');
  if (close < open) throw ScimError.invalidPath('The path has an unclosed [');
  const attr = resolve(path.slice(0, open));
  if (!attr || attr.subAttribute || attr.attribute.type !== 'complex' || !attr.attribute.multiValued) {
    throw ScimError.invalidPath(`The path's value filter needs a multi-valued complex attribute: ${truncate(path.slice(0, open))}`);
  }
  const filter = parseValueFilter(path.slice(open + 1, close), attr, resolve, { limitError: (d) => ScimError.invalidPath(`Invalid path: ${d}`, attr.canonicalPath) });
  const rest = path.slice(close + 1);
  if (rest === '') return { attr, filter };
  if (!rest.startsWith('.')) throw ScimError.invalidPath('Unexpected text after ] in the path');
  const sub = attr.attribute.subAttributes?.find((s) => s.name.toLowerCase() === rest.slice(1).toLowerCase());
  if (!sub) throw ScimError.invalidPath(`${attr.canonicalPath} has no sub-attribute ${truncate(rest.slice(1))}`);
  return { attr, filter, sub: sub.name };
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
