import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from '@app/audit';
import { IssueManagementTokenHandler, IssueScimTokenHandler, RevokeTokenHandler } from '@app/auth';
import type { AppConfig } from '@app/config';
import {
  AddSamlGroupLinkHandler,
  ChangeGroupSettingsHandler,
  CreateGroupHandler,
  CreateScimGroupHandler,
  CreateScimUserHandler,
  DeleteScimGroupHandler,
  DeleteScimUserHandler,
  RemoveSamlGroupLinkHandler,
  ScimGroupWriter,
  SetGroupMembershipHandler,
  UpdateScimGroupHandler,
  UpdateScimUserHandler,
} from '@app/identity';
import { SupportModule } from '@app/support';
import { GetScimGroupHandler, GroupsOfUserHandler, ListScimGroupsHandler } from '@app/read-models/queries/scim-group.query-handlers';
import { GetScimUserHandler, ListScimUsersHandler } from '@app/read-models/queries/scim-user.query-handlers';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { AllExceptionsFilter } from './infrastructure/all-exceptions.filter';
import { coreProviders } from './infrastructure/core.providers';
import { StoreSpace } from './infrastructure/store-space';
import { LifecycleService } from './infrastructure/lifecycle.service';
import { ManagementAuthGuard } from './infrastructure/management-auth.guard';
import { ScimAuthGuard } from './infrastructure/scim-auth.guard';
import { RejectionRecorder } from './infrastructure/rejection-recorder';
import { GroupsController } from './management/groups.controller';
import { IdentitiesController } from './management/identities.controller';
import { TokensController } from './management/tokens.controller';
import { DiscoveryController } from './scim/discovery.controller';
import { BaseController } from './scim/base.controller';
import { GroupsController as ScimGroupsController } from './scim/groups.controller';
import { SamlGroupLinksController } from './management/saml-group-links.controller';
import { ProjectionsController } from './management/projections.controller';
import { AccountsController } from './management/accounts.controller';
import { SessionController } from './management/session.controller';
import { AuditController } from './audit/audit.controller';
import { SupportController } from './support/support.controller';
import { ReadModelAuditNames } from './audit/read-model-audit-names';
import { BulkController } from './scim/bulk.controller';
import { UsersController } from './scim/users.controller';

const COMMAND_HANDLERS = [
  CreateScimUserHandler,
  UpdateScimUserHandler,
  DeleteScimUserHandler,
  CreateGroupHandler,
  IssueScimTokenHandler,
  IssueManagementTokenHandler,
  RevokeTokenHandler,
  CreateScimGroupHandler,
  ChangeGroupSettingsHandler,
  UpdateScimGroupHandler,
  DeleteScimGroupHandler,
  AddSamlGroupLinkHandler,
  RemoveSamlGroupLinkHandler,
  SetGroupMembershipHandler,
];

const QUERY_HANDLERS = [GetScimUserHandler, ListScimUsersHandler, GetScimGroupHandler, ListScimGroupsHandler, GroupsOfUserHandler];

/**
 * The core ports (store, clock, projection runner, directory, config…), global so that the libs'
 * own modules (SupportModule, AuditModule) resolve them without importing the application.
 */
@Module({})
class CoreModule {}

function coreModule(providers: Provider[]): DynamicModule {
  const tokens = providers.map((p) => (typeof p === 'function' ? p : p.provide));
  return { module: CoreModule, global: true, providers, exports: tokens };
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        coreModule(coreProviders(config)),
        SupportModule,
        AuditModule.forRoot(ReadModelAuditNames),
        TerminusModule,
        // Request logs come from Fastify's own pino (see bootstrap); Nest's logs go through
        // nestjs-pino at the same level, redacting the same secrets.
        LoggerModule.forRoot({
          useExisting: true,
          pinoHttp: { level: config.logLevel === 'silent' ? 'silent' : config.logLevel, redact: ['req.headers.authorization'] },
        }),
      ],
      controllers: [HealthController, MetricsController, GroupsController, TokensController, IdentitiesController, DiscoveryController, UsersController, ScimGroupsController, BulkController, BaseController, SamlGroupLinksController, ProjectionsController, AccountsController, AuditController, SupportController, SessionController],
      providers: [
        ...COMMAND_HANDLERS,
        ...QUERY_HANDLERS,
        ScimGroupWriter,
        RejectionRecorder,
        LifecycleService,
        ScimAuthGuard,
        ManagementAuthGuard,
        StoreSpace,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
