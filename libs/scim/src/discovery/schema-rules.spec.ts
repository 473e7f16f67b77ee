import { schemas } from './discovery';

/**
 * RFC 7643 §7 rules a strict SCIM client enforces on /Schemas: every attribute definition
 * carries its characteristics with values from the RFC's enumerations; subAttributes only on
 * complex attributes (and never nested deeper than one level); a reference declares its
 * referenceTypes; canonicalValues only on strings.
 */
const TYPES = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'];
const MUTABILITY = ['readOnly', 'readWrite', 'immutable', 'writeOnly'];
const RETURNED = ['always', 'never', 'default', 'request'];
const UNIQUENESS = ['none', 'server', 'global'];

function violations(attribute: Record<string, unknown>, path: string, depth: number, maxDepth = 0): string[] {
  const out: string[] = [];
  const say = (what: string) => out.push(`${path}: ${what}`);
  if (typeof attribute.name !== 'string' || !/^[A-Za-z$][\w$-]*$/.test(attribute.name)) say('name is not an ATTRNAME');
  if (!TYPES.includes(attribute.type as string)) say(`type ${String(attribute.type)}`);
  for (const k of ['multiValued', 'required', 'caseExact']) if (typeof attribute[k] !== 'boolean') say(`${k} is not a boolean`);
  if (typeof attribute.description !== 'string' || attribute.description === '') say('no description');
  if (!MUTABILITY.includes(attribute.mutability as string)) say(`mutability ${String(attribute.mutability)}`);
  if (!RETURNED.includes(attribute.returned as string)) say(`returned ${String(attribute.returned)}`);
  if (!UNIQUENESS.includes(attribute.uniqueness as string)) say(`uniqueness ${String(attribute.uniqueness)}`);
  if (attribute.type === 'reference') {
    const types = attribute.referenceTypes;
    if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string' && t !== '')) say('reference without referenceTypes');
  } else if (attribute.referenceTypes !== undefined) say('referenceTypes on a non-reference');
  if (attribute.canonicalValues !== undefined && (!Array.isArray(attribute.canonicalValues) || attribute.type !== 'string')) say('canonicalValues on a non-string');
  if (attribute.type === 'complex') {
    const subs = attribute.subAttributes;
    if (!Array.isArray(subs) || subs.length === 0) say('complex without subAttributes');
    else if (depth > maxDepth) say('complex nested in complex');
    else for (const s of subs as Record<string, unknown>[]) out.push(...violations(s, `${path}.${String(s.name)}`, depth + 1, maxDepth));
  } else if (attribute.subAttributes !== undefined) say('subAttributes on a non-complex');
  return out;
}

describe('/Schemas against RFC 7643 §7', () => {
  const all = schemas('https://scim.example/api/scim/v2/application').Resources as unknown as Record<string, unknown>[];

  it.each(all.map((s) => [s.id as string, s]))('%s', (_id, schema) => {
    expect(schema.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Schema']);
    expect(typeof schema.id === 'string' && (schema.id as string).startsWith('urn:')).toBe(true);
    expect(schema.meta).toMatchObject({ resourceType: 'Schema' });
    const attributes = schema.attributes as Record<string, unknown>[];
    expect(Array.isArray(attributes) && attributes.length > 0).toBe(true);
    const names = attributes.map((a) => String(a.name).toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    // Only the Schema schema itself nests (RFC 7643 §8.7.2: attributes.subAttributes).
    const maxDepth = schema.id === 'urn:ietf:params:scim:schemas:core:2.0:Schema' ? 1 : 0;
    expect(attributes.flatMap((a) => violations(a, String(a.name), 0, maxDepth))).toEqual([]);
  });
});
