import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../event-envelope';
import type { ScopeId } from '../scope';

export class DeleteScimUserCommand extends Command<void> {
  constructor(
    readonly scope: ScopeId,
    readonly identityId: string,
    readonly ctx: CommandContext,
    readonly ifMatch?: bigint,
  ) {
    super();
  }
}
