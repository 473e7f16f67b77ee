import { Module } from '@nestjs/common';
import { CursorKeyring } from './cursor-keyring';
import { GetScimGroupHandler, GroupsOfUserHandler, ListScimGroupsHandler, ResolveScimGroupVersionHandler } from './queries/scim-group.query-handlers';
import { GetScimUserHandler, ListScimUsersHandler } from './queries/scim-user.query-handlers';

/**
 * The SCIM query handlers. ProjectionRunner, ReadYourWrites and ScanPool come from the app's
 * global core module, which opens the read-model database and starts the runner.
 */
@Module({
  providers: [CursorKeyring, GetScimUserHandler, ListScimUsersHandler, GetScimGroupHandler, ListScimGroupsHandler, GroupsOfUserHandler, ResolveScimGroupVersionHandler],
})
export class ReadModelsModule {}
