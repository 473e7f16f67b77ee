/**
 * Names the audit lib shows beside ids in its reports, from read models it does not own
 * (groups, tokens, the identifier history): the application provides them, so the audit lib
 * depends on none of those libs.
 */
export interface AuditNames {
  /** `group <full path>` for a group scope; other scopes as they are. */
  scopeName(scope: string): string;
  tokenName(tokenId: string): string | undefined;
  /** The account of an identity (or account) id, when known. */
  accountOf(id: string): string | null;
  /**
   * The account and identity ids that ever held an identifier (userName, email, externalId,
   * NameID, username), compared as people read them: what `q` finds records by.
   */
  holdersOf(value: string): string[];
}

export const AUDIT_NAMES = Symbol('AUDIT_NAMES');
