import { Command } from '@nestjs/cqrs';
import type { AccessLevel } from '../access-level';
import type { CommandContext } from '../event-envelope';

/** An administrator grants an account a level in a group (null: takes the grant back). */
export class SetGroupMembershipCommand extends Command<void> {
  constructor(
    readonly accountId: string,
    readonly group: { readonly id: string; readonly topLevelId: string },
    readonly level: AccessLevel | null,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}
