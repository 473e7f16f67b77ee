import { Command } from '@nestjs/cqrs';
import type { AccountEvent, CommandContext } from '@app/identity';

export type RemediationAction = 'change-external-id' | 'reactivate' | 'unlink' | 'link';

export interface RemediationRequest {
  readonly action: RemediationAction;
  /** change-external-id, reactivate, unlink: the identity to fix. */
  readonly scimId?: string;
  /** link: the account to link a new identity to. */
  readonly accountId?: string;
  /** change-external-id (required), link. */
  readonly externalId?: string;
  /** link. */
  readonly userName?: string;
  /** link: the top-level group scope; the application scope when absent. */
  readonly groupPath?: string;
}

export interface RemediationResult {
  readonly dryRun: boolean;
  readonly accountId: string;
  /** The account stream revision written; absent on a dry run. */
  readonly revision?: bigint;
  readonly events: readonly AccountEvent[];
}

/**
 * An audited fix by support or an admin. `ctx.reason` (required at the edge) is recorded with
 * the events; `dryRun` answers the events that would be written and writes nothing.
 */
export class RemediateCommand extends Command<RemediationResult> {
  constructor(
    readonly request: RemediationRequest,
    readonly dryRun: boolean,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}
