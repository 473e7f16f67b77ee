import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { AccountWriter } from './account-writer';
import { ChangeGroupSettingsHandler } from './groups/change-group-settings.handler';
import { CreateGroupHandler } from './groups/create-group.handler';
import { GetIdentityHandler } from './identities/get-identity.handler';
import { SetGroupMembershipHandler } from './groups/set-group-membership.handler';
import { CLOCK, type Clock } from './ports';
import { IDENTIFIER_HASH, type ValueHash } from './reservations';
import { AddSamlGroupLinkHandler, RemoveSamlGroupLinkHandler } from './saml-links/saml-group-link.handlers';
import { ScimGroupWriter } from './scim-groups/scim-group-writer';
import { CreateScimGroupHandler, DeleteScimGroupHandler, UpdateScimGroupHandler } from './scim-groups/scim-group.handlers';
import { CreateScimUserHandler } from './scim-users/create-scim-user.handler';
import { DeleteScimUserHandler } from './scim-users/delete-scim-user.handler';
import { UpdateScimUserHandler } from './scim-users/update-scim-user.handler';

/**
 * The identity lib's command handlers and writers. The ports they take (EVENT_STORE, CLOCK,
 * IDENTITY_DIRECTORY) are the composition root's to bind: the app's global core module
 * provides them, so this module names no adapter.
 */
@Module({
  providers: [
    {
      provide: AccountWriter,
      inject: [EVENT_STORE, CLOCK, { token: IDENTIFIER_HASH, optional: true }],
      useFactory: (store: EventStore, clock: Clock, hash?: ValueHash) => new AccountWriter(store, clock, hash),
    },
    ScimGroupWriter,
    GetIdentityHandler,
    CreateScimUserHandler,
    UpdateScimUserHandler,
    DeleteScimUserHandler,
    CreateGroupHandler,
    ChangeGroupSettingsHandler,
    SetGroupMembershipHandler,
    CreateScimGroupHandler,
    UpdateScimGroupHandler,
    DeleteScimGroupHandler,
    AddSamlGroupLinkHandler,
    RemoveSamlGroupLinkHandler,
  ],
  exports: [AccountWriter, ScimGroupWriter],
})
export class IdentityModule {}
