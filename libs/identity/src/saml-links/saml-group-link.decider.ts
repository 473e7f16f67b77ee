import type { Decider } from '@app/decider';
import type { AccessLevelName } from '../access-level';
import { InvalidCommand, ResourceNotFound } from '../errors';
import type { Occurred } from '../event-family';
import type { SamlGroupLinkEvent } from '../group.events';

/**
 * The rules of a SAML group link (samlGroupName → group, access level). What a link grants
 * is the account decider's business; adding or removing one only resyncs the accounts whose
 * SCIM groups carry that name.
 */
export type SamlGroupLinkCommand =
  | {
      readonly type: 'AddSamlGroupLink';
      readonly linkId: string;
      readonly samlGroupName: string;
      /** As the request named the group; `groupId` is what was found there (absent: nothing was). */
      readonly groupPath: string;
      readonly groupId?: string;
      readonly accessLevel: AccessLevelName;
      readonly now: string;
    }
  | { readonly type: 'RemoveSamlGroupLink'; readonly linkId: string; readonly now: string };

export type SamlGroupLinkDecidedEvent = Occurred<SamlGroupLinkEvent>;

export interface SamlGroupLinkState {
  readonly exists: boolean;
  readonly removed: boolean;
  readonly linkId: string;
  readonly samlGroupName: string;
  readonly groupId: string;
  readonly accessLevel?: AccessLevelName;
}

export function initialState(): SamlGroupLinkState {
  return { exists: false, removed: false, linkId: '', samlGroupName: '', groupId: '' };
}

export function evolve(state: SamlGroupLinkState, event: SamlGroupLinkDecidedEvent): SamlGroupLinkState {
  switch (event.type) {
    case 'SamlGroupLinkAdded':
      return {
        exists: true,
        removed: false,
        linkId: event.data.linkId,
        samlGroupName: event.data.samlGroupName,
        groupId: event.data.groupId,
        accessLevel: event.data.accessLevel,
      };
    case 'SamlGroupLinkRemoved':
      return { ...state, removed: true };
  }
}

export function decide(command: SamlGroupLinkCommand, state: SamlGroupLinkState): SamlGroupLinkDecidedEvent[] {
  const occurredAt = command.now;
  switch (command.type) {
    case 'AddSamlGroupLink': {
      // IdPs pad group names inconsistently; the link matches the trimmed name.
      const name = command.samlGroupName.trim();
      if (name === '' || name.length > 255) throw new InvalidCommand('samlGroupName is required (at most 255 characters)', 'samlGroupName');
      if (command.groupId === undefined) throw new ResourceNotFound('Group', command.groupPath);
      // Ids are new per request: an existing stream means the id was reused, never a repeat.
      if (state.exists) throw new InvalidCommand(`SAML group link ${command.linkId} already exists`, 'id');
      return [
        {
          type: 'SamlGroupLinkAdded',
          data: { linkId: command.linkId, samlGroupName: name, groupId: command.groupId, accessLevel: command.accessLevel },
          occurredAt,
        },
      ];
    }
    case 'RemoveSamlGroupLink':
      // A removed link is gone: removing it again is a 404, as it always was.
      if (!state.exists || state.removed) throw new ResourceNotFound('SAML group link', command.linkId);
      return [
        { type: 'SamlGroupLinkRemoved', data: { linkId: command.linkId, samlGroupName: state.samlGroupName, groupId: state.groupId }, occurredAt },
      ];
  }
}

export const samlGroupLinkDecider: Decider<SamlGroupLinkCommand, SamlGroupLinkDecidedEvent, SamlGroupLinkState> = { initialState, evolve, decide };
