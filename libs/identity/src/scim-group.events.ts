import { eventFamily } from './event-family';
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

/** The one decoder of the SCIM group stream's events. */
export const scimGroupEvents = eventFamily<ScimGroupEvent>(SCIM_GROUP_EVENT_TYPES);

export function scimGroupStream(groupId: string): string {
  return `scimGroup-${groupId}`;
}
