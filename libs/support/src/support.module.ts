import { Module } from '@nestjs/common';
import { IdentityModule } from '@app/identity';
import { RemediateHandler } from './remediation.handler';
import { SUPPORT_QUERY_HANDLERS } from './support.query-handlers';
import { SupportReadRecorder } from './support-read.recorder';

/**
 * Support's reads and remediations. Its handlers take the core ports (EVENT_STORE, CLOCK,
 * IDENTITY_DIRECTORY, the projection runner) from the application's global core, and the
 * account writer from the identity lib's module (remediations go through the account decider).
 */
@Module({
  imports: [IdentityModule],
  providers: [...SUPPORT_QUERY_HANDLERS, RemediateHandler, SupportReadRecorder],
})
export class SupportModule {}
