import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { RecordedEvent } from '@app/event-store';
import type { CommandContext } from '@app/identity';
import type { AsyncRequestAccepted } from '../async-request.events';
import { ASYNC_REQUEST_EXECUTOR, type AsyncExecution, type AsyncRequestExecutor } from './async-request-executor.port';
import { CompleteAsyncRequestCommand } from './async-request.handlers';

/**
 * Fault injection for the crash tests (never set in production): `hold` accepts requests but
 * does not run them live (as if the process died right after the 202); `skip-completion` runs
 * them but does not record the outcome (as if it died between the write and the completion).
 */
const fault = (): string | undefined => process.env.ASYNC_REQUEST_FAULT;

/** Runs accepted requests, each at most once at a time in this process, and records their outcome. */
@Injectable()
export class AsyncRequestRunner {
  private readonly logger = new Logger('async-requests');
  /** This process start: recovery knows which pending requests are another instance's. */
  readonly instanceId = randomUUID();
  private readonly running = new Map<string, Promise<AsyncExecution | undefined>>();

  constructor(
    @Inject(ASYNC_REQUEST_EXECUTOR) private readonly executor: AsyncRequestExecutor,
    private readonly commands: CommandBus,
  ) {}

  isRunning(txn: string): boolean {
    return this.running.has(txn);
  }

  /**
   * Starts a request just accepted. Resolves with its execution once the outcome is recorded,
   * or undefined when it did not complete now (recovery will run it); never rejects.
   */
  start(request: AsyncRequestAccepted): Promise<AsyncExecution | undefined> {
    // Held: it never finishes here, as in a process that died.
    if (fault() === 'hold') return new Promise(() => undefined);
    return this.run(request).catch((err: Error) => {
      this.logger.warn(`asynchronous request ${request.txn} did not complete, recovery will run it again: ${err.message}`);
      return undefined;
    });
  }

  /** Runs a request (joining the run in progress, if any). Rejects when the outcome could not be recorded. */
  run(request: AsyncRequestAccepted, committed: readonly RecordedEvent[] = []): Promise<AsyncExecution | undefined> {
    const current = this.running.get(request.txn);
    if (current) return current;
    const run = this.runOnce(request, committed).finally(() => this.running.delete(request.txn));
    this.running.set(request.txn, run);
    return run;
  }

  private async runOnce(request: AsyncRequestAccepted, committed: readonly RecordedEvent[]): Promise<AsyncExecution | undefined> {
    const execution = await this.executor.execute(request, committed);
    if (!execution.operations || fault() === 'skip-completion') return undefined;
    await this.commands.execute(new CompleteAsyncRequestCommand(request.txn, execution.operations, completionContext(request)));
    return execution;
  }
}

export function completionContext(request: AsyncRequestAccepted): CommandContext {
  return {
    correlationId: request.txn,
    commandId: randomUUID(),
    actor: { kind: 'scim_token', id: request.tokenId, tokenId: request.tokenId, tokenSha256Prefix: request.tokenSha256Prefix },
  };
}
