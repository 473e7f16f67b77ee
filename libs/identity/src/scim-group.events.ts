import type { ScopeId } from './scope';

/** Events of the `scimGroup-{id}` stream. Members are not here: see ScimGroupMembersAdded. */
export interface ScimGroupEventMap {
  ScimGroupCreated: { groupId: string; scope: ScopeId; displayName: string; externalId?: string };
  ScimGroupRenamed: { groupId: string; scope: ScopeId; from: string; to: string };
  ScimGroupExternalIdChanged: { groupId: string; scope: ScopeId; from?: string; to?: string };
  ScimGroupDeleted: { groupId: string; scope: ScopeId; displayName: string };
}

export type ScimGroupEventType = keyof ScimGroupEventMap;
export type ScimGroupEvent = { [K in ScimGroupEventType]: { type: K; data: ScimGroupEventMap[K] } }[ScimGroupEventType];
export const SCIM_GROUP_EVENT_TYPES = [
  'ScimGroupCreated',
  'ScimGroupRenamed',
  'ScimGroupExternalIdChanged',
  'ScimGroupDeleted',
] as const satisfies readonly ScimGroupEventType[];

export function scimGroupStream(groupId: string): string {
  return `scimGroup-${groupId}`;
}

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

export function initialScimGroupState(): ScimGroupState {
  return { exists: false, deleted: false, id: '', displayName: '' };
}

export function evolveScimGroup(state: ScimGroupState, event: ScimGroupEvent, at: string): ScimGroupState {
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
