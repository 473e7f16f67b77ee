// The SCIM protocol lib's public entry point (@app/scim): other libs and the apps import from
// here only (the architecture lint forbids deep imports across libs).
export * from './scim-error';
export * from './filter';
export * from './patch';
export * from './resources/user.resource';
export * from './resources/group.resource';
export * from './schema/schema.types';
export * from './schema/document.types';
export * from './schema/resolve';
export * from './schema/normalize';
export * from './schema/select-attributes';
export * from './schema/attribute-builders';
export * from './discovery/discovery';
export * from './paging/cursor-codec';
