import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from '@app/audit';
import { AuthModule } from '@app/auth';
import type { AppConfig } from '@app/config';
import { IdentityModule } from '@app/identity';
import { ReadModelsModule } from '@app/read-models';
import { SupportModule } from '@app/support';
import { AsyncRequestsModule } from '@app/events';
import { PrivacyModule } from '@app/privacy';
import { HealthController } from './health/health.controller';
import { StoreHealthIndicator } from './health/store-health.indicator';
import { MetricsController } from './metrics/metrics.controller';
import { AllExceptionsFilter } from './infrastructure/all-exceptions.filter';
import { CoreModule } from './infrastructure/core.module';
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
import { ErasuresController } from './support/erasures.controller';
import { ReadModelAuditNames } from './audit/read-model-audit-names';
import { BulkController } from './scim/bulk.controller';
import { UsersController } from './scim/users.controller';
import { AsyncRequestsController } from './scim/async-requests.controller';
import { HttpAsyncRequestExecutor } from './scim/async/http-async-request.executor';
import { EventsModule } from '@app/events';
import { SsfDiscoveryController, SsfKeysController } from './events/ssf-discovery.controller';
import { SsfStreamsController } from './events/ssf-streams.controller';
import { SsfAdminStreamsController } from './events/ssf-admin-streams.controller';
import { StreamsAuthGuard } from './events/streams-auth.guard';
import { SetStreamMetrics } from './events/set-stream.metrics';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        TerminusModule,
        CoreModule.forRoot(config),
        // Each lib lists its own handlers; the core module binds the ports they take.
        IdentityModule,
        AuthModule,
        ReadModelsModule,
        SupportModule,
        PrivacyModule,
        AuditModule.forRoot(ReadModelAuditNames),
        AsyncRequestsModule.forRoot(HttpAsyncRequestExecutor),
        EventsModule,
        // Request logs come from Fastify's own pino (see bootstrap); Nest's logs go through
        // nestjs-pino at the same level, redacting the same secrets. No route gets its binding
        // middleware: it runs every request inside an AsyncLocalStorage, which on Node 20 puts a
        // hook on every promise of the process (a sixth of a GET's CPU), only so that the few
        // Nest log lines written during a request carry its id; those that matter name it.
        LoggerModule.forRoot({
          useExisting: true,
          forRoutes: [],
          pinoHttp: { level: config.logLevel === 'silent' ? 'silent' : config.logLevel, redact: ['req.headers.authorization'] },
        }),
      ],
      controllers: [HealthController, MetricsController, GroupsController, TokensController, IdentitiesController, DiscoveryController, UsersController, ScimGroupsController, BulkController, BaseController, SamlGroupLinksController, ProjectionsController, AccountsController, AuditController, SupportController, SessionController, AsyncRequestsController, SsfDiscoveryController, SsfKeysController, SsfStreamsController, SsfAdminStreamsController, ErasuresController],
      providers: [
        RejectionRecorder,
        LifecycleService,
        ScimAuthGuard,
        ManagementAuthGuard,
        StreamsAuthGuard,
        SetStreamMetrics,
        StoreSpace,
        StoreHealthIndicator,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
