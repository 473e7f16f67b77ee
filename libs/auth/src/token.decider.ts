import type { Decider } from '@app/decider';
import { InvalidCommand, type Occurred, ResourceNotFound } from '@app/identity/domain';
import type { ManagementRole, TokenEvent } from './token.events';

/**
 * The rules of a token: issued once (with only the SHA-256 of its secret), revoked at most
 * once. The secret and the id are made by the handler; times come in with the command.
 */
export type TokenCommand =
  | {
      readonly type: 'IssueScimToken';
      readonly tokenId: string;
      readonly scope: string;
      readonly sha256: string;
      readonly name?: string;
      readonly expiresAt?: string;
      readonly now: string;
    }
  | {
      readonly type: 'IssueManagementToken';
      readonly tokenId: string;
      readonly role: ManagementRole;
      readonly sha256: string;
      readonly name?: string;
      readonly expiresAt?: string;
      readonly pii?: boolean;
      readonly bootstrap?: boolean;
      readonly now: string;
    }
  | { readonly type: 'RevokeToken'; readonly tokenId: string; readonly kind: 'scim' | 'management'; readonly now: string };

export type TokenDecidedEvent = Occurred<TokenEvent>;

export interface TokenState {
  readonly exists: boolean;
  readonly kind?: 'scim' | 'management';
  readonly tokenId: string;
  readonly scope?: string;
  readonly role?: ManagementRole;
  readonly expiresAt?: string;
  readonly revoked: boolean;
}

export function initialState(): TokenState {
  return { exists: false, tokenId: '', revoked: false };
}

export function evolve(state: TokenState, event: TokenDecidedEvent): TokenState {
  switch (event.type) {
    case 'ScimTokenIssued':
      return { exists: true, kind: 'scim', tokenId: event.data.tokenId, scope: event.data.scope, ...(event.data.expiresAt ? { expiresAt: event.data.expiresAt } : {}), revoked: false };
    case 'ManagementTokenIssued':
      return { exists: true, kind: 'management', tokenId: event.data.tokenId, role: event.data.role, ...(event.data.expiresAt ? { expiresAt: event.data.expiresAt } : {}), revoked: false };
    case 'ScimTokenRevoked':
    case 'ManagementTokenRevoked':
      return { ...state, revoked: true };
  }
}

export function decide(command: TokenCommand, state: TokenState): TokenDecidedEvent[] {
  const occurredAt = command.now;
  switch (command.type) {
    case 'IssueScimToken':
      requireNew(state, command.tokenId);
      requireFuture(command.expiresAt, command.now);
      return [
        {
          type: 'ScimTokenIssued',
          data: {
            tokenId: command.tokenId,
            scope: command.scope,
            sha256: command.sha256,
            ...(command.name ? { name: command.name } : {}),
            ...(command.expiresAt ? { expiresAt: command.expiresAt } : {}),
          },
          occurredAt,
        },
      ];
    case 'IssueManagementToken':
      requireNew(state, command.tokenId);
      requireFuture(command.expiresAt, command.now);
      return [
        {
          type: 'ManagementTokenIssued',
          data: {
            tokenId: command.tokenId,
            role: command.role,
            sha256: command.sha256,
            pii: command.pii === true,
            ...(command.name ? { name: command.name } : {}),
            ...(command.expiresAt ? { expiresAt: command.expiresAt } : {}),
            ...(command.bootstrap ? { bootstrap: true } : {}),
          },
          occurredAt,
        },
      ];
    case 'RevokeToken':
      // A SCIM token is not found through the management-token route, and the other way round.
      if (!state.exists || state.kind !== command.kind) throw new ResourceNotFound('Token', command.tokenId);
      // Revoking twice (or an expired token) is accepted and changes nothing more.
      if (state.revoked) return [];
      return [
        state.kind === 'scim'
          ? { type: 'ScimTokenRevoked', data: { tokenId: command.tokenId, scope: state.scope ?? '' }, occurredAt }
          : { type: 'ManagementTokenRevoked', data: { tokenId: command.tokenId, role: state.role ?? 'admin' }, occurredAt },
      ];
  }
}

export const tokenDecider: Decider<TokenCommand, TokenDecidedEvent, TokenState> = { initialState, evolve, decide };

function requireNew(state: TokenState, tokenId: string): void {
  // Ids are new per request: an existing stream means the id was reused, never a repeat.
  if (state.exists) throw new InvalidCommand(`Token ${tokenId} already exists`, 'id');
}

function requireFuture(expiresAt: string | undefined, now: string): void {
  if (expiresAt !== undefined && Date.parse(expiresAt) <= Date.parse(now)) {
    throw new InvalidCommand('expiresAt must lie in the future', 'expiresAt');
  }
}
