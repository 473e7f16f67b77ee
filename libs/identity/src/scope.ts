/**
 * Where a SCIM token works and where SCIM ids, userNames, externalIds and SCIM groups live:
 * the single instance scope (`application`) or one scope per top-level group (`group:<id>`).
 */
export type ScopeId = 'application' | `group:${string}`;

export const INSTANCE_SCOPE: ScopeId = 'application';

export function groupScope(topLevelGroupId: string): ScopeId {
  return `group:${topLevelGroupId}`;
}

export function scopeGroupId(scope: ScopeId): string | undefined {
  return scope.startsWith('group:') ? scope.slice('group:'.length) : undefined;
}

export function isScopeId(value: unknown): value is ScopeId {
  return value === 'application' || (typeof value === 'string' && /^group:[0-9a-f-]{36}$/.test(value));
}
