import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '@app/decider/testing';
import { InvalidCommand, ResourceNotFound } from '../errors';
import { type SamlGroupLinkCommand, samlGroupLinkDecider, type SamlGroupLinkDecidedEvent } from './saml-group-link.decider';

const spec = DeciderSpecification.for(samlGroupLinkDecider);
const T0 = '2026-01-01T00:00:00.000Z';
const now = '2026-01-02T00:00:00.000Z';
const add = (c: Partial<Extract<SamlGroupLinkCommand, { type: 'AddSamlGroupLink' }>> = {}): SamlGroupLinkCommand => ({
  type: 'AddSamlGroupLink',
  linkId: 'l-1',
  samlGroupName: 'eng',
  groupPath: 'acme',
  groupId: 'g-1',
  accessLevel: 'developer',
  now,
  ...c,
});
const added: SamlGroupLinkDecidedEvent = { type: 'SamlGroupLinkAdded', data: { linkId: 'l-1', samlGroupName: 'eng', groupId: 'g-1', accessLevel: 'developer' }, occurredAt: T0 };
const removed: SamlGroupLinkDecidedEvent = { type: 'SamlGroupLinkRemoved', data: { linkId: 'l-1', samlGroupName: 'eng', groupId: 'g-1' }, occurredAt: T0 };
const remove: SamlGroupLinkCommand = { type: 'RemoveSamlGroupLink', linkId: 'l-1', now };

describe('SAML group link decider', () => {
  it('adds a link under the trimmed name', () => {
    spec.given([]).when(add({ samlGroupName: '  eng ' })).then([{ ...added, occurredAt: now }]);
  });

  it('refuses a blank or too long name before looking at the group', () => {
    spec.given([]).when(add({ samlGroupName: '   ', groupId: undefined })).thenThrows(InvalidCommand, (e) => e.attribute === 'samlGroupName');
    spec.given([]).when(add({ samlGroupName: 'n'.repeat(256) })).thenThrows(InvalidCommand, (e) => e.attribute === 'samlGroupName');
  });

  it('does not find a group the handler did not find', () => {
    spec.given([]).when(add({ groupId: undefined })).thenThrows(ResourceNotFound, (e) => e.id === 'acme');
  });

  it('removes a link, naming what it linked', () => {
    spec.given([added]).when(remove).then([{ ...removed, occurredAt: now }]);
  });

  it('does not find a link that is unknown or already removed', () => {
    spec.given([]).when(remove).thenThrows(ResourceNotFound, (e) => e.id === 'l-1');
    spec.given([added, removed]).when(remove).thenThrows(ResourceNotFound);
  });
});
