import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { AUDIT_COMMAND_HANDLERS } from './audit.command-handlers';
import { AUDIT_NAMES, type AuditNames } from './audit-names.port';
import { AUDIT_QUERY_HANDLERS } from './audit.query-handlers';
import { AuditSigningService } from './audit-signing.service';

/**
 * The audit log's queries, exports and signed checkpoints. Its handlers take the core ports
 * (EVENT_STORE, CLOCK, LEADER_LEASE, APP_CONFIG, the projection runner) from the application's
 * global core; the application says how scopes, tokens and accounts are named (`AuditNames`).
 */
@Module({})
export class AuditModule {
  static forRoot(names: Type<AuditNames>): DynamicModule {
    return {
      module: AuditModule,
      providers: [...AUDIT_QUERY_HANDLERS, ...AUDIT_COMMAND_HANDLERS, AuditSigningService, { provide: AUDIT_NAMES, useClass: names }],
      exports: [AuditSigningService],
    };
  }
}
