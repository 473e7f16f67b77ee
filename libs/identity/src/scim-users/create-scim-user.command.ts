import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../event-envelope';
import type { AttributeDocument } from '../events';
import type { ScopeId } from '../scope';
import type { ScimUserWriteResult } from './scim-user.result';

/** POST /Users: create, link an existing account, or bring back an inactive identity. */
export class CreateScimUserCommand extends Command<ScimUserWriteResult> {
  constructor(
    readonly scope: ScopeId,
    /** Normalised attributes including userName and externalId; no active, no password. */
    readonly attributes: AttributeDocument,
    readonly active: boolean,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}
