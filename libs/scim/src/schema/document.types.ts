/**
 * The stored SCIM attribute document of a User: canonical attribute spelling, extension
 * attributes nested under their schema URN, no server-owned parts (id, meta, groups,
 * schemas) and never a password. `active` is always a boolean.
 */
export type UserDocument = { readonly userName: string; readonly active: boolean } & { readonly [attribute: string]: unknown };

/** A Group as a client sends it: name, externalId and member ids (order kept, de-duplicated). */
export interface GroupDocument {
  readonly displayName: string;
  readonly externalId?: string;
  readonly members: string[];
}
