import { Module } from '@nestjs/common';
import { IssueManagementTokenHandler, IssueScimTokenHandler, RevokeTokenHandler } from './token.handlers';

/**
 * The token command handlers. EVENT_STORE and CLOCK come from the app's global core module;
 * AuthService stays there too, since it is built from the app's configuration and its raw store.
 */
@Module({
  providers: [IssueScimTokenHandler, IssueManagementTokenHandler, RevokeTokenHandler],
})
export class AuthModule {}
