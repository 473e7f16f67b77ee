import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../event-envelope';
import type { AttributeDocument } from '../events';
import type { ScopeId } from '../scope';
import type { ScimUserWriteResult } from './scim-user.result';

export interface ScimUserChange {
  readonly attributes: AttributeDocument;
  /** Undefined leaves `active` as it is. */
  readonly active?: boolean;
}

/**
 * PUT or PATCH. `change` is a pure function of the current attributes so that a retry
 * after a concurrent write re-applies the request to the fresh state (20 parallel PATCHes
 * without If-Match must all land).
 */
export class UpdateScimUserCommand extends Command<ScimUserWriteResult> {
  constructor(
    readonly scope: ScopeId,
    readonly identityId: string,
    readonly change: (current: { attributes: AttributeDocument; active: boolean }) => ScimUserChange,
    readonly ctx: CommandContext,
    readonly ifMatch?: bigint,
  ) {
    super();
  }
}
