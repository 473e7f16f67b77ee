import { SCIM_EVENT_URIS } from '@app/scim';
import { ScimEventUri } from './scim-event-uris';

describe('SCIM event URIs', () => {
  it('ServiceProviderConfig.securityEvents.eventUris names exactly the events the feed emits', () => {
    expect([...SCIM_EVENT_URIS].sort()).toEqual(Object.values(ScimEventUri).sort());
  });
});
