import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { ASYNC_REQUEST_EXECUTOR, type AsyncRequestExecutor } from './async-request-executor.port';
import { AsyncRequestRecovery } from './async-request-recovery.service';
import { AsyncRequestRunner } from './async-request-runner.service';
import { ASYNC_REQUEST_HANDLERS } from './async-request.handlers';

/**
 * Asynchronous SCIM requests (RFC 9967 §2.5): accept, run, complete, recover. The handlers take
 * the core ports (EVENT_STORE, CLOCK, LEADER_LEASE) from the application's global core; the
 * application says how a request runs (its HTTP pipeline).
 */
@Module({})
export class AsyncRequestsModule {
  static forRoot(executor: Type<AsyncRequestExecutor>): DynamicModule {
    return {
      module: AsyncRequestsModule,
      providers: [...ASYNC_REQUEST_HANDLERS, AsyncRequestRunner, AsyncRequestRecovery, { provide: ASYNC_REQUEST_EXECUTOR, useClass: executor }],
      exports: [AsyncRequestRunner, AsyncRequestRecovery],
    };
  }
}
