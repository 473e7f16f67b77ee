import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { IssueManagementTokenHandler, IssueScimTokenHandler, RevokeTokenHandler } from '@app/auth';
import type { AppConfig } from '@app/config';
import { CreateGroupHandler, CreateScimUserHandler, DeleteScimUserHandler, UpdateScimUserHandler } from '@app/identity';
import { HealthController } from './health/health.controller';
import { AllExceptionsFilter } from './infrastructure/all-exceptions.filter';
import { coreProviders } from './infrastructure/core.providers';
import { LifecycleService } from './infrastructure/lifecycle.service';
import { ManagementAuthGuard } from './infrastructure/management-auth.guard';
import { ScimAuthGuard } from './infrastructure/scim-auth.guard';
import { GroupsController } from './management/groups.controller';
import { IdentitiesController } from './management/identities.controller';
import { TokensController } from './management/tokens.controller';
import { DiscoveryController } from './scim/discovery.controller';
import { UsersController } from './scim/users.controller';

const COMMAND_HANDLERS = [
  CreateScimUserHandler,
  UpdateScimUserHandler,
  DeleteScimUserHandler,
  CreateGroupHandler,
  IssueScimTokenHandler,
  IssueManagementTokenHandler,
  RevokeTokenHandler,
];

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [CqrsModule.forRoot()],
      controllers: [HealthController, GroupsController, TokensController, IdentitiesController, DiscoveryController, UsersController],
      providers: [
        ...coreProviders(config),
        ...COMMAND_HANDLERS,
        LifecycleService,
        ScimAuthGuard,
        ManagementAuthGuard,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
