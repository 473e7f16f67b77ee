import { ScimError } from '../scim-error';
import type { FilterNode, Resolver } from '../filter/filter.ast';
import { memberIds } from '../schema/normalize';
import { parsePatchBody, parsePatchPath } from './patch.parser';

export type GroupMemberOp =
  | { op: 'add'; ids: string[] }
  | { op: 'remove'; ids: string[] }
  | { op: 'removeAll' }
  | { op: 'replace'; ids: string[] };

export interface GroupPatchPlan {
  displayName?: string;
  /** null clears it. */
  externalId?: string | null;
  memberOps: GroupMemberOp[];
}

/**
 * Turns a Group PATCH, in every IdP dialect, into a plan that never needs the current member
 * list: renames, externalId changes and member deltas in request order. Okta's
 * `replace {id, displayName}`, mixed `remove members[value eq "…"]` + `add members`, Entra's
 * `Remove members` with a value list, `remove members` (all) and member replace.
 */
export function planGroupPatch(
  current: { id: string; displayName: string; externalId?: string },
  body: unknown,
  resolve: Resolver,
): GroupPatchPlan {
  const plan: GroupPatchPlan = { memberOps: [] };
  for (const op of parsePatchBody(body)) {
    if (op.path === undefined) {
      if (op.op === 'remove') throw ScimError.noTarget('remove needs a path');
      if (typeof op.value !== 'object' || op.value === null || Array.isArray(op.value)) {
        throw ScimError.invalidValue('A PATCH operation without a path needs an object value', 'value');
      }
      for (const [key, value] of Object.entries(op.value as Record<string, unknown>)) {
        const lower = key.toLowerCase();
        if (lower === 'schemas' || lower === 'meta') continue;
        if (lower === 'id') {
          if (value !== current.id) throw ScimError.mutability('id cannot be changed', 'id');
          continue;
        }
        if (lower === 'displayname') plan.displayName = displayName(value);
        else if (lower === 'externalid') plan.externalId = externalId(value);
        else if (lower === 'members') plan.memberOps.push(op.op === 'replace' ? { op: 'replace', ids: memberIds(value) } : { op: 'add', ids: memberIds(value) });
      }
      continue;
    }
    const path = parsePatchPath(op.path, resolve);
    const name = path.attr.attribute.name;
    if (name === 'displayName') {
      if (op.op === 'remove') throw ScimError.invalidValue('displayName is required and cannot be removed', 'displayName');
      plan.displayName = displayName(op.value);
    } else if (name === 'externalId') {
      plan.externalId = op.op === 'remove' ? null : externalId(op.value);
    } else if (name === 'id') {
      if (op.op === 'remove' || op.value !== current.id) throw ScimError.mutability('id cannot be changed', 'id');
    } else if (name === 'members' && !path.attr.subAttribute && !path.sub) {
      if (path.filter) {
        if (op.op !== 'remove') throw ScimError.invalidPath('Only remove takes a member filter; add members with a value list');
        plan.memberOps.push({ op: 'remove', ids: idsOf(path.filter) });
      } else if (op.op === 'remove') {
        const listed = op.hasValue && op.value !== null && op.value !== undefined ? memberIds(op.value) : undefined;
        plan.memberOps.push(listed ? { op: 'remove', ids: listed } : { op: 'removeAll' });
      } else if (op.op === 'replace') {
        plan.memberOps.push({ op: 'replace', ids: memberIds(op.value) });
      } else {
        plan.memberOps.push({ op: 'add', ids: memberIds(op.value) });
      }
    } else if (name === 'meta') {
      continue;
    } else {
      throw ScimError.invalidPath(`${path.attr.canonicalPath} cannot be changed on a group`, path.attr.canonicalPath);
    }
  }
  return plan;
}

/** `value eq "a"` or `value eq "a" or value eq "b"`: the ids a member filter names. */
function idsOf(node: FilterNode): string[] {
  if (node.kind === 'or') return [...idsOf(node.left), ...idsOf(node.right)];
  if (node.kind === 'compare' && node.op === 'eq' && node.attr.subAttribute?.name === 'value' && typeof node.value === 'string') {
    return [node.value];
  }
  throw ScimError.invalidFilter('Member filters may only combine value eq "<id>" with or', 'members');
}

function displayName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw ScimError.invalidValue('displayName must be a non-empty string', 'displayName');
  return value;
}

function externalId(value: unknown): string | null {
  if (value === null || value === '') return null;
  if (typeof value !== 'string') throw ScimError.invalidValue('externalId must be a string', 'externalId');
  return value;
}
