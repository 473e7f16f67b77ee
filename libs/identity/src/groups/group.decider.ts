import type { Decider } from '@app/decider';
import type { AccessLevelName } from '../access-level';
import { InvalidCommand, ResourceNotFound } from '../errors';
import type { Occurred } from '../event-family';
import type { GroupEvent } from '../group.events';
import { foldForMatch } from '../identifier-fold';

const PATH = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** The parent a subgroup is created under, as the handler found it by path. */
export interface ParentGroup {
  readonly id: string;
  readonly fullPath: string;
  readonly topLevelId: string;
}

/**
 * The rules of a group (GitLab namespace): its path, name, default membership role and
 * verified domains. Full paths are unique instance-wide and a verified domain belongs to one
 * top-level group: both are reservations, taken and given back as `groupReservations` says.
 */
export type GroupCommand =
  | {
      readonly type: 'CreateGroup';
      readonly groupId: string;
      readonly path: string;
      readonly name: string;
      /** As the request named it; `parent` is what was found there (absent: nothing was). */
      readonly parentPath?: string;
      readonly parent?: ParentGroup;
      readonly defaultMembershipRole?: AccessLevelName;
      readonly verifiedDomains?: readonly string[];
      readonly now: string;
    }
  | {
      readonly type: 'ChangeGroupSettings';
      /** As the request named the group, for a refusal. */
      readonly fullPath: string;
      readonly defaultMembershipRole?: AccessLevelName;
      readonly verifiedDomains?: readonly string[];
      readonly now: string;
    };

export type GroupDecidedEvent = Occurred<GroupEvent>;

export interface GroupState {
  readonly exists: boolean;
  readonly id: string;
  readonly path: string;
  readonly name: string;
  readonly fullPath: string;
  readonly parentId?: string;
  readonly topLevelId: string;
  readonly defaultMembershipRole: AccessLevelName;
  readonly verifiedDomains: readonly string[];
  readonly created?: string;
}

export function initialState(): GroupState {
  return { exists: false, id: '', path: '', name: '', fullPath: '', topLevelId: '', defaultMembershipRole: 'guest', verifiedDomains: [] };
}

export function evolve(state: GroupState, event: GroupDecidedEvent): GroupState {
  switch (event.type) {
    case 'GroupCreated': {
      const d = event.data;
      return {
        exists: true,
        id: d.groupId,
        path: d.path,
        name: d.name,
        fullPath: d.fullPath,
        ...(d.parentId !== undefined ? { parentId: d.parentId } : {}),
        topLevelId: d.topLevelId,
        defaultMembershipRole: d.defaultMembershipRole,
        verifiedDomains: d.verifiedDomains,
        created: event.occurredAt,
      };
    }
    case 'GroupSettingsChanged':
      return {
        ...state,
        ...(event.data.defaultMembershipRole ? { defaultMembershipRole: event.data.defaultMembershipRole.to } : {}),
        ...(event.data.verifiedDomains ? { verifiedDomains: event.data.verifiedDomains.to } : {}),
      };
  }
}

export function decide(command: GroupCommand, state: GroupState): GroupDecidedEvent[] {
  const occurredAt = command.now;
  switch (command.type) {
    case 'CreateGroup': {
      if (!PATH.test(command.path) || command.path.endsWith('.git') || command.path.endsWith('.atom')) {
        throw new InvalidCommand('path may contain letters, digits, _, - and . and must not end in .git or .atom', 'path');
      }
      if (typeof command.name !== 'string' || command.name.trim() === '' || command.name.length > 255) {
        throw new InvalidCommand('name is required (at most 255 characters)', 'name');
      }
      const parent = command.parent;
      if (command.parentPath !== undefined && !parent) throw new ResourceNotFound('Group', command.parentPath);
      const domains = verifiedDomains(command.verifiedDomains ?? []);
      if (parent && domains.length > 0) throw new InvalidCommand('only a top-level group can verify domains', 'verifiedDomains');
      // Ids are new per request: an existing stream means the id was reused, never a repeat.
      if (state.exists) throw new InvalidCommand(`Group ${command.groupId} already exists`, 'id');
      const id = command.groupId;
      return [
        {
          type: 'GroupCreated',
          data: {
            groupId: id,
            path: command.path,
            name: command.name,
            fullPath: parent ? `${parent.fullPath}/${command.path}` : command.path,
            ...(parent ? { parentId: parent.id } : {}),
            topLevelId: parent ? parent.topLevelId : id,
            defaultMembershipRole: command.defaultMembershipRole ?? 'guest',
            verifiedDomains: domains,
          },
          occurredAt,
        },
      ];
    }
    case 'ChangeGroupSettings': {
      if (!state.exists) throw new ResourceNotFound('Group', command.fullPath);
      const domains = command.verifiedDomains ? verifiedDomains(command.verifiedDomains) : undefined;
      if (domains && domains.length > 0 && state.parentId !== undefined) {
        throw new InvalidCommand('only a top-level group can verify domains', 'verifiedDomains');
      }
      const data: Extract<GroupEvent, { type: 'GroupSettingsChanged' }>['data'] = { groupId: state.id };
      const fromRole = state.defaultMembershipRole;
      if (command.defaultMembershipRole && command.defaultMembershipRole !== fromRole) {
        data.defaultMembershipRole = { from: fromRole, to: command.defaultMembershipRole };
      }
      if (domains) {
        // Another order of the same domains is no change.
        const before = [...new Set(state.verifiedDomains.map((d) => d.toLowerCase()))];
        const changed = domains.some((d) => !before.includes(d)) || before.some((d) => !domains.includes(d));
        if (changed) data.verifiedDomains = { from: before, to: domains };
      }
      if (!data.defaultMembershipRole && !data.verifiedDomains) return [];
      return [{ type: 'GroupSettingsChanged', data, occurredAt }];
    }
  }
}

export const groupDecider: Decider<GroupCommand, GroupDecidedEvent, GroupState> = { initialState, evolve, decide };

export interface GroupReservation {
  readonly kind: 'groupPath' | 'domain';
  readonly value: string;
}

/**
 * The unique values a decision takes and gives back: the difference between what the group
 * holds before and after (its full path, its verified domains), compared folded.
 */
export function groupReservations(before: GroupState, after: GroupState): { claims: GroupReservation[]; releases: GroupReservation[] } {
  const held = heldValues(before);
  const now = heldValues(after);
  return {
    claims: [...now].filter(([k]) => !held.has(k)).map(([, r]) => r),
    releases: [...held].filter(([k]) => !now.has(k)).map(([, r]) => r),
  };
}

/** Whether the group holds `value` of `kind` (the orphan check of a reservation). */
export function groupHolds(state: GroupState, kind: string, foldedValue: string): boolean {
  return heldValues(state).has(`${kind}|${foldedValue}`);
}

function heldValues(state: GroupState): Map<string, GroupReservation> {
  const values = new Map<string, GroupReservation>();
  if (!state.exists) return values;
  const add = (r: GroupReservation) => values.set(`${r.kind}|${foldForMatch(r.value)}`, r);
  add({ kind: 'groupPath', value: state.fullPath });
  for (const d of state.verifiedDomains) add({ kind: 'domain', value: d });
  return values;
}

/** Lower-cased, without repeats; refuses anything that is not a domain name. */
function verifiedDomains(requested: readonly string[]): string[] {
  const domains = [...new Set(requested.map((d) => d.toLowerCase()))];
  if (domains.some((d) => !DOMAIN.test(d))) throw new InvalidCommand('verifiedDomains holds an invalid domain', 'verifiedDomains');
  return domains;
}
