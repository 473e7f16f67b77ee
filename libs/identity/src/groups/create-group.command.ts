import { Command } from '@nestjs/cqrs';
import type { AccessLevelName } from '../access-level';
import type { CommandContext } from '../event-envelope';
import type { GroupInfo } from '../ports';

export class CreateGroupCommand extends Command<GroupInfo & { position: bigint }> {
  constructor(
    readonly path: string,
    readonly name: string,
    readonly ctx: CommandContext,
    readonly options: {
      readonly parentPath?: string;
      readonly defaultMembershipRole?: AccessLevelName;
      readonly verifiedDomains?: readonly string[];
    } = {},
  ) {
    super();
  }
}

export class ChangeGroupSettingsCommand extends Command<{ position: bigint }> {
  constructor(
    readonly fullPath: string,
    readonly ctx: CommandContext,
    readonly settings: {
      readonly defaultMembershipRole?: AccessLevelName;
      readonly verifiedDomains?: readonly string[];
    },
  ) {
    super();
  }
}
