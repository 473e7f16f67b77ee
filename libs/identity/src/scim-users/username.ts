/**
 * GitLab derives the account username from the SCIM userName: the local part of an email
 * address, sanitised to the characters a username may hold. Uniqueness suffixes
 * (`jdoe1`, `jdoe2`) are added by the caller.
 */
export function deriveUsername(userName: string): string {
  const local = userName.includes('@') ? userName.slice(0, userName.indexOf('@')) : userName;
  const sanitized = local
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .replace(/\.(git|atom)$/i, '')
    .slice(0, 200);
  return sanitized.length > 0 ? sanitized : 'user';
}
