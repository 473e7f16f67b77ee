import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '@app/identity';
import type { ManagementRole } from './token.events';

export interface IssuedToken {
  readonly id: string;
  /** Shown once; only its hash is stored. */
  readonly secret: string;
  readonly position: bigint;
}

/** The scope a SCIM token serves: the instance, or a top-level group named by its path. */
export type ScimTokenTarget = { readonly scope: 'application' } | { readonly scope: 'group'; readonly groupPath?: string };

export interface IssuedScimToken extends IssuedToken {
  /** A group-scope token's group path (its SCIM base is `/api/scim/v2/groups/{path}`). */
  readonly groupPath?: string;
}

export class IssueScimTokenCommand extends Command<IssuedScimToken> {
  constructor(
    readonly target: ScimTokenTarget,
    readonly ctx: CommandContext,
    readonly name?: string,
    readonly expiresAt?: string,
  ) {
    super();
  }
}

export class IssueManagementTokenCommand extends Command<IssuedToken> {
  constructor(
    readonly role: ManagementRole,
    readonly ctx: CommandContext,
    readonly options: { name?: string; expiresAt?: string; pii?: boolean; bootstrap?: boolean; secret?: string } = {},
  ) {
    super();
  }
}

export class RevokeTokenCommand extends Command<void> {
  constructor(
    readonly tokenId: string,
    readonly kind: 'scim' | 'management',
    readonly ctx: CommandContext,
  ) {
    super();
  }
}
