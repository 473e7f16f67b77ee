import { Command } from '@nestjs/cqrs';
import type { AccessLevelName } from '../access-level';
import type { CommandContext } from '../event-envelope';

export class AddSamlGroupLinkCommand extends Command<{ id: string; position: bigint; resynced: number }> {
  constructor(
    readonly samlGroupName: string,
    readonly groupPath: string,
    readonly accessLevel: AccessLevelName,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

export class RemoveSamlGroupLinkCommand extends Command<{ resynced: number }> {
  constructor(
    readonly linkId: string,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}
