import { Module } from '@nestjs/common';
import { RemediateHandler } from './remediation.handler';
import { SUPPORT_QUERY_HANDLERS } from './support.query-handlers';
import { SupportReadRecorder } from './support-read.recorder';

/**
 * Support's reads and remediations. Its handlers take the core ports (EVENT_STORE, CLOCK,
 * IDENTITY_DIRECTORY, AccountWriter, the projection runner) from the application's global core.
 */
@Module({
  providers: [...SUPPORT_QUERY_HANDLERS, RemediateHandler, SupportReadRecorder],
})
export class SupportModule {}
