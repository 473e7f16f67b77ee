import { eventFamily } from '@app/identity/domain';
/** Events of `token-{tokenId}` streams. Secrets never appear: only their SHA-256. */
export type ManagementRole = 'admin' | 'support' | 'auditor';

export interface TokenEventMap {
  ScimTokenIssued: { tokenId: string; scope: string; name?: string; sha256: string; expiresAt?: string };
  ScimTokenRevoked: { tokenId: string; scope: string };
  ManagementTokenIssued: {
    tokenId: string;
    role: ManagementRole;
    name?: string;
    sha256: string;
    expiresAt?: string;
    /** Auditor tokens see personal data unmasked only when created with pii: true. */
    pii: boolean;
    bootstrap?: boolean;
  };
  ManagementTokenRevoked: { tokenId: string; role: ManagementRole };
}

export type TokenEventType = keyof TokenEventMap;
export type TokenEvent = { [K in TokenEventType]: { type: K; data: TokenEventMap[K] } }[TokenEventType];
export const TOKEN_EVENT_TYPES = [
  'ScimTokenIssued',
  'ScimTokenRevoked',
  'ManagementTokenIssued',
  'ManagementTokenRevoked',
] as const satisfies readonly TokenEventType[];

/** The one decoder of the token stream's events. */
export const tokenEvents = eventFamily<TokenEvent>(TOKEN_EVENT_TYPES);

export function tokenStream(tokenId: string): string {
  return `token-${tokenId}`;
}
