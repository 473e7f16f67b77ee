/** RFC 7643 §7 attribute characteristics, as published under /Schemas. */
export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

export interface AttributeDefinition {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: Mutability;
  readonly returned: Returned;
  readonly uniqueness: Uniqueness;
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
  readonly subAttributes?: readonly AttributeDefinition[];
}

export interface SchemaDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDefinition[];
}

/** A resource type's attribute space: the core schema plus its extensions. */
export interface ResourceSchema {
  readonly core: SchemaDefinition;
  readonly extensions: readonly SchemaDefinition[];
}

/**
 * What a path such as `name.familyName`, `emails.value` or
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value` resolves to.
 * Names are matched case-insensitively; `canonicalName` is the schema's spelling.
 */
export interface ResolvedAttribute {
  /** Schema URN the attribute belongs to. */
  readonly schema: string;
  /** The top-level attribute. */
  readonly attribute: AttributeDefinition;
  /** The sub-attribute, when the path names one. */
  readonly subAttribute?: AttributeDefinition;
  /** e.g. `name.familyName`, `emails.value`, `urn:…:User:manager.value` (extension attributes keep their URN). */
  readonly canonicalPath: string;
}
