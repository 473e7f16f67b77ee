import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../event-envelope';
import type { ScopeId } from '../scope';
import type { ScimGroupChange, ScimGroupState } from './scim-group.decider';

export type { MemberOp, ScimGroupChange } from './scim-group.decider';

export interface ScimGroupWriteResult {
  readonly group: ScimGroupState;
  readonly revision: bigint;
}

export class CreateScimGroupCommand extends Command<ScimGroupWriteResult> {
  constructor(
    readonly scope: ScopeId,
    readonly displayName: string,
    readonly externalId: string | undefined,
    readonly members: readonly string[],
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

/** PUT or PATCH of a SCIM group; `change` is re-run against fresh state on a retry. */
export class UpdateScimGroupCommand extends Command<ScimGroupWriteResult> {
  constructor(
    readonly scope: ScopeId,
    readonly groupId: string,
    readonly change: (current: ScimGroupState) => ScimGroupChange,
    readonly ctx: CommandContext,
    readonly ifMatch?: bigint,
  ) {
    super();
  }
}

export class DeleteScimGroupCommand extends Command<void> {
  constructor(
    readonly scope: ScopeId,
    readonly groupId: string,
    readonly ctx: CommandContext,
    readonly ifMatch?: bigint,
  ) {
    super();
  }
}
