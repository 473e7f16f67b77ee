import type { Decider } from '@app/decider';
import { InvalidCommand, ResourceNotFound } from '../errors';
import type { Occurred } from '../event-family';
import { foldForMatch, identifierProblem } from '../identifier-fold';
import type { ScimGroupEvent } from '../scim-group.events';
import type { ScopeId } from '../scope';

/**
 * The rules of one SCIM group's own stream: its name, externalId and deletion. Who is a
 * member is recorded on each member's account stream (decided by the account decider);
 * what a list of member operations amounts to is `memberChanges` below.
 */
export type ScimGroupDecision =
  | { readonly type: 'CreateScimGroup'; readonly groupId: string; readonly scope: ScopeId; readonly displayName: string | undefined; readonly externalId?: string | null; readonly now: string }
  | {
      readonly type: 'ChangeScimGroup';
      readonly groupId: string;
      readonly scope: ScopeId;
      /** Absent: unchanged. */
      readonly displayName?: string;
      /** Absent: unchanged; null clears it. */
      readonly externalId?: string | null;
      readonly now: string;
    }
  | { readonly type: 'DeleteScimGroup'; readonly groupId: string; readonly scope: ScopeId; readonly now: string };

/** What a PUT or PATCH asks of a group, planned against its current state. */
export type MemberOp =
  | { readonly op: 'add'; readonly ids: readonly string[] }
  | { readonly op: 'remove'; readonly ids: readonly string[] }
  | { readonly op: 'removeAll' }
  | { readonly op: 'replace'; readonly ids: readonly string[] };

export interface ScimGroupChange {
  readonly displayName?: string;
  /** null clears it. */
  readonly externalId?: string | null;
  readonly memberOps: readonly MemberOp[];
}

export type ScimGroupDecidedEvent = Occurred<ScimGroupEvent>;

export interface ScimGroupState {
  readonly exists: boolean;
  readonly deleted: boolean;
  readonly id: string;
  readonly scope?: ScopeId;
  readonly displayName: string;
  readonly externalId?: string;
  readonly created?: string;
  readonly lastModified?: string;
}

export function initialState(): ScimGroupState {
  return { exists: false, deleted: false, id: '', displayName: '' };
}

export function evolve(state: ScimGroupState, event: ScimGroupDecidedEvent): ScimGroupState {
  const at = event.occurredAt;
  switch (event.type) {
    case 'ScimGroupCreated':
      return {
        exists: true,
        deleted: false,
        id: event.data.groupId,
        scope: event.data.scope,
        displayName: event.data.displayName,
        externalId: event.data.externalId,
        created: at,
        lastModified: at,
      };
    case 'ScimGroupRenamed':
      return { ...state, displayName: event.data.to, lastModified: at };
    case 'ScimGroupExternalIdChanged':
      return { ...state, externalId: event.data.to, lastModified: at };
    case 'ScimGroupDeleted':
      return { ...state, deleted: true, lastModified: at };
  }
}

export function decide(command: ScimGroupDecision, state: ScimGroupState): ScimGroupDecidedEvent[] {
  const occurredAt = command.now;
  const { groupId, scope } = command;
  switch (command.type) {
    case 'CreateScimGroup': {
      // Ids are new per request: an existing stream means the id was reused, never a repeat.
      if (state.exists) throw new InvalidCommand(`Group ${groupId} already exists`, 'id');
      const displayName = requireDisplayName(command.displayName);
      const externalId = command.externalId ?? undefined;
      return [{ type: 'ScimGroupCreated', data: { groupId, scope, displayName, ...(externalId ? { externalId } : {}) }, occurredAt }];
    }
    case 'ChangeScimGroup': {
      requireLiveScimGroup(state, scope, groupId);
      const events: ScimGroupDecidedEvent[] = [];
      if (command.displayName !== undefined && command.displayName !== state.displayName) {
        const to = requireDisplayName(command.displayName);
        events.push({ type: 'ScimGroupRenamed', data: { groupId, scope, from: state.displayName, to }, occurredAt });
      }
      const externalId = command.externalId === null ? undefined : command.externalId;
      if (command.externalId !== undefined && externalId !== state.externalId) {
        events.push({
          type: 'ScimGroupExternalIdChanged',
          data: { groupId, scope, ...(state.externalId ? { from: state.externalId } : {}), ...(externalId ? { to: externalId } : {}) },
          occurredAt,
        });
      }
      return events;
    }
    case 'DeleteScimGroup':
      requireLiveScimGroup(state, scope, groupId);
      return [{ type: 'ScimGroupDeleted', data: { groupId, scope, displayName: state.displayName }, occurredAt }];
  }
}

export const scimGroupDecider: Decider<ScimGroupDecision, ScimGroupDecidedEvent, ScimGroupState> = { initialState, evolve, decide };

/** A group another scope's token names, or a deleted one, does not exist for the caller. */
export function requireLiveScimGroup(state: ScimGroupState, scope: ScopeId, groupId: string): void {
  if (!state.exists || state.deleted || state.scope !== scope) throw new ResourceNotFound('Group', groupId);
}

/**
 * The displayName reservation a decision takes and gives back (unique per scope, compared
 * folded): the difference between the name held before and after, as for accounts, so a
 * change of case or width alone keeps the reservation it has.
 */
export function displayNameReservations(before: ScimGroupState, after: ScimGroupState): { claim?: string; release?: string } {
  const from = heldDisplayName(before);
  const to = heldDisplayName(after);
  if (from !== undefined && to !== undefined && foldForMatch(from) === foldForMatch(to)) return {};
  return { ...(to !== undefined ? { claim: to } : {}), ...(from !== undefined ? { release: from } : {}) };
}

function heldDisplayName(state: ScimGroupState): string | undefined {
  return state.exists && !state.deleted ? state.displayName : undefined;
}

/**
 * The member ids to add and remove that a list of operations amounts to, applied in order
 * (a later operation wins over an earlier one). `current` is needed only when an operation
 * replaces or clears the whole list (see `needsCurrentMembers`).
 */
export function memberChanges(ops: readonly MemberOp[], current: Iterable<string>): { add: string[]; remove: string[] } {
  const add = new Set<string>();
  const remove = new Set<string>();
  const members = [...current];
  for (const op of ops) {
    if (op.op === 'add') {
      for (const id of op.ids) {
        remove.delete(id);
        add.add(id);
      }
    } else if (op.op === 'remove') {
      for (const id of op.ids) {
        add.delete(id);
        remove.add(id);
      }
    } else {
      const keep = new Set(op.op === 'replace' ? op.ids : []);
      for (const id of [...members, ...add]) if (!keep.has(id)) remove.add(id);
      add.clear();
      for (const id of keep) {
        remove.delete(id);
        add.add(id);
      }
    }
  }
  return { add: [...add], remove: [...remove] };
}

/** A new group has no members to load; only whole-list operations on an existing one need them. */
export function needsCurrentMembers(state: ScimGroupState, ops: readonly MemberOp[]): boolean {
  return state.exists && ops.some((o) => o.op === 'removeAll' || o.op === 'replace');
}

/**
 * Every member added must be a live user of the group's scope. The refusal counts and places
 * the unknown ones, never echoes them: an IdP may send an email or a name as a member value.
 */
export function requireLiveMembers(add: readonly string[], live: ReadonlyMap<string, string>): void {
  const first = add.findIndex((id) => !live.has(id));
  if (first < 0) return;
  const unknown = add.filter((id) => !live.has(id)).length;
  throw new InvalidCommand(
    `${unknown} of the ${add.length} members added ${unknown === 1 ? 'does' : 'do'} not refer to a user in this scope (the first is number ${first + 1} of the members added)`,
    'members',
  );
}

function requireDisplayName(name: string | undefined): string {
  if (typeof name !== 'string' || name.trim() === '') throw new InvalidCommand('displayName is required', 'displayName');
  if (name.length > 255) throw new InvalidCommand('displayName is longer than 255 characters', 'displayName');
  const problem = identifierProblem(name, { allowIgnorable: true });
  if (problem !== undefined) throw new InvalidCommand(`displayName ${problem}`, 'displayName');
  return name;
}
