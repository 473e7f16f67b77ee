import type { AccessLevelName } from './access-level';
import { eventFamily } from './event-family';

/** Events of the `group-{groupId}` stream (GitLab namespaces, created by administrators). */
export interface GroupEventMap {
  GroupCreated: {
    groupId: string;
    path: string;
    name: string;
    fullPath: string;
    parentId?: string;
    topLevelId: string;
    defaultMembershipRole: AccessLevelName;
    verifiedDomains: string[];
  };
  GroupSettingsChanged: {
    groupId: string;
    defaultMembershipRole?: { from: AccessLevelName; to: AccessLevelName };
    verifiedDomains?: { from: string[]; to: string[] };
  };
}

export type GroupEventType = keyof GroupEventMap;
export type GroupEvent = { [K in GroupEventType]: { type: K; data: GroupEventMap[K] } }[GroupEventType];
export const GROUP_EVENT_TYPES = ['GroupCreated', 'GroupSettingsChanged'] as const satisfies readonly GroupEventType[];

/** The one decoder of the group stream's events. */
export const groupEvents = eventFamily<GroupEvent>(GROUP_EVENT_TYPES);

export function groupStream(groupId: string): string {
  return `group-${groupId}`;
}

/** Events of `samlGroupLink-{id}` streams: admin configuration samlGroupName → (group, level). */
export interface SamlGroupLinkEventMap {
  SamlGroupLinkAdded: { linkId: string; samlGroupName: string; groupId: string; accessLevel: AccessLevelName };
  SamlGroupLinkRemoved: { linkId: string; samlGroupName: string; groupId: string };
}
export type SamlGroupLinkEvent = {
  [K in keyof SamlGroupLinkEventMap]: { type: K; data: SamlGroupLinkEventMap[K] };
}[keyof SamlGroupLinkEventMap];
export const SAML_GROUP_LINK_EVENT_TYPES = ['SamlGroupLinkAdded', 'SamlGroupLinkRemoved'] as const satisfies readonly (keyof SamlGroupLinkEventMap)[];
/** The one decoder of the SAML group link stream's events. */
export const samlGroupLinkEvents = eventFamily<SamlGroupLinkEvent>(SAML_GROUP_LINK_EVENT_TYPES);

export function samlGroupLinkStream(linkId: string): string {
  return `samlGroupLink-${linkId}`;
}
