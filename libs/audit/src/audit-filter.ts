import { attr, type AttributeDefinition, compileFilterToSql, type FilterSqlMapping, findByName, parseFilter, type ResolvedAttribute, str } from '@app/scim';

/** The envelope attributes auditors filter on, each an indexed column. */
const ENVELOPE: readonly AttributeDefinition[] = [
  str('id', 'Event id', { caseExact: true }),
  str('type', 'Event type', { caseExact: true }),
  str('scope', 'Scope', { caseExact: true }),
  str('outcome', 'success or rejected', { caseExact: true }),
  str('correlationId', 'Request or job id', { caseExact: true }),
  attr('actor', 'complex', 'Who caused it', { subAttributes: [str('tokenId', 'Token id', { caseExact: true }), str('kind', 'Actor kind', { caseExact: true })] }),
  attr('target', 'complex', 'What it concerns', { subAttributes: [str('id', 'Target id', { caseExact: true }), str('identityId', 'SCIM identity id', { caseExact: true })] }),
  str('subject', 'SupportDataRead: the account whose data was read', { caseExact: true }),
];

const COLUMNS: Record<string, string> = {
  id: 'id',
  type: 'type',
  scope: 'scope',
  outcome: 'outcome',
  correlationId: 'correlation_id',
  'actor.tokenId': 'actor_token_id',
  'actor.kind': 'actor_kind',
  'target.id': 'target_id',
  'target.identityId': 'identity_id',
  subject: 'subject_id',
};

function resolveEnvelope(path: string): ResolvedAttribute | undefined {
  const [name, sub, extra] = path.split('.');
  if (extra !== undefined) return undefined;
  const attribute = findByName(ENVELOPE, name);
  if (!attribute) return undefined;
  const subAttribute = sub !== undefined ? findByName(attribute.subAttributes ?? [], sub) : undefined;
  if (sub !== undefined && !subAttribute) return undefined;
  if (attribute.type === 'complex' && !subAttribute) return undefined;
  const canonicalPath = subAttribute ? `${attribute.name}.${subAttribute.name}` : attribute.name;
  return { schema: 'urn:audit:envelope', attribute, ...(subAttribute ? { subAttribute } : {}), canonicalPath };
}

const mapping: FilterSqlMapping = {
  jsonColumn: 'envelope',
  column: (path) => (COLUMNS[path] ? { expr: COLUMNS[path] } : undefined),
};

/**
 * `filter` in SCIM filter syntax over the envelope (`type eq "UserProvisioned" and
 * target.id eq "…"`), compiled to indexed columns. Anything else is a 400 invalidFilter.
 */
export function compileAuditFilter(filter: string): { sql: string; params: (string | number)[] } {
  return compileFilterToSql(parseFilter(filter, resolveEnvelope), mapping);
}
