import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../event-envelope';
import type { ScimGroupState } from '../scim-group.events';
import type { ScopeId } from '../scope';

export type MemberOp =
  | { readonly op: 'add'; readonly ids: readonly string[] }
  | { readonly op: 'remove'; readonly ids: readonly string[] }
  | { readonly op: 'removeAll' }
  | { readonly op: 'replace'; readonly ids: readonly string[] };

export interface ScimGroupChange {
  readonly displayName?: string;
  /** null clears it. */
  readonly externalId?: string | null;
  readonly memberOps: readonly MemberOp[];
}

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
