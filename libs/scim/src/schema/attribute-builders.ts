import type { AttributeDefinition, AttributeType, Mutability, Returned, Uniqueness } from './schema.types';

/** Compact builders so the RFC 7643 schema data reads like the RFC's tables. */
interface Options {
  readonly multiValued?: boolean;
  readonly required?: boolean;
  readonly caseExact?: boolean;
  readonly mutability?: Mutability;
  readonly returned?: Returned;
  readonly uniqueness?: Uniqueness;
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
  readonly subAttributes?: readonly AttributeDefinition[];
}

export function attr(name: string, type: AttributeType, description: string, o: Options = {}): AttributeDefinition {
  return {
    name,
    type,
    multiValued: o.multiValued ?? false,
    description,
    required: o.required ?? false,
    caseExact: o.caseExact ?? false,
    mutability: o.mutability ?? 'readWrite',
    returned: o.returned ?? 'default',
    uniqueness: o.uniqueness ?? 'none',
    ...(o.canonicalValues ? { canonicalValues: o.canonicalValues } : {}),
    ...(o.referenceTypes ? { referenceTypes: o.referenceTypes } : {}),
    ...(o.subAttributes ? { subAttributes: o.subAttributes } : {}),
  };
}

export const str = (name: string, description: string, o: Options = {}) => attr(name, 'string', description, o);

/** A multi-valued attribute with the usual value/display/type/primary sub-attributes. */
export function multi(
  name: string,
  description: string,
  types: readonly string[],
  o: { valueType?: AttributeType; valueReferenceTypes?: readonly string[]; extra?: readonly AttributeDefinition[]; mutability?: Mutability; valueRequired?: boolean } = {},
): AttributeDefinition {
  return attr(name, 'complex', description, {
    multiValued: true,
    mutability: o.mutability ?? 'readWrite',
    subAttributes: [
      attr('value', o.valueType ?? 'string', `The value of ${name}.`, {
        mutability: o.mutability ?? 'readWrite',
        ...(o.valueReferenceTypes ? { referenceTypes: o.valueReferenceTypes } : {}),
      }),
      str('display', 'A human-readable name, primarily used for display purposes.', { mutability: o.mutability ?? 'readWrite' }),
      str('type', `A label indicating the ${name} function.`, { canonicalValues: types, mutability: o.mutability ?? 'readWrite' }),
      attr('primary', 'boolean', 'Indicates the primary or preferred value.', { mutability: o.mutability ?? 'readWrite' }),
      ...(o.extra ?? []),
    ],
  });
}
