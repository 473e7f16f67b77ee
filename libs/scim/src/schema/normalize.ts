import { ScimError } from '../scim-error';
import { identifierProblem } from './fold-identifier';
import type { GroupDocument, UserDocument } from './document.types';
import { ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_URN } from './enterprise-user.schema';
import { GROUP_SCHEMA_URN } from './group.schema';
import { COMMON_ATTRIBUTES, findByName } from './resolve';
import type { AttributeDefinition } from './schema.types';
import { USER_SCHEMA, USER_SCHEMA_URN } from './user.schema';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_IDENTIFIER = 2048;
const MAX_STRING = 16_384;
const MAX_VALUES = 100;
const MAX_MEMBERS = 100_000;

type Plain = Record<string, unknown>;

/**
 * POST/PUT bodies and PATCH results → the stored document. Names are matched
 * case-insensitively and written in the schema's spelling; unknown attributes and unknown
 * extension schemas are ignored; `null` and "" mean absent; read-only members a client
 * echoes back are dropped; the password is accepted and dropped. Wrong types are refused
 * naming the attribute — never echoing the value.
 */
export function normalizeUserInput(body: unknown): UserDocument {
  if (!isPlain(body)) throw ScimError.invalidSyntax('The request body must be a JSON object');
  return finishUser(normalizeAttributes(body, USER_SCHEMA.attributes, '', true));
}

/** The same rules for a document produced by applying a PATCH. */
export function normalizeUserDocument(doc: Record<string, unknown>): UserDocument {
  return finishUser(normalizeAttributes(doc, USER_SCHEMA.attributes, '', true));
}

export function normalizeGroupInput(body: unknown): GroupDocument {
  if (!isPlain(body)) throw ScimError.invalidSyntax('The request body must be a JSON object');
  let displayName: unknown;
  let externalId: unknown;
  let members: unknown;
  for (const [key, value] of Object.entries(body)) {
    const k = stripUrn(key, GROUP_SCHEMA_URN).toLowerCase();
    if (k === 'displayname') displayName = value;
    else if (k === 'externalid') externalId = value;
    else if (k === 'members') members = value;
  }
  if (typeof displayName !== 'string' || displayName.trim() === '') {
    throw ScimError.invalidValue('displayName is required and must be a non-empty string', 'displayName');
  }
  if (displayName.length > 255) throw ScimError.invalidValue('displayName is longer than 255 characters', 'displayName');
  // A display name may carry emoji (variation selectors, ZWJ): invisible code points fold away instead.
  refuseUnreadable(displayName, 'displayName', true);
  if (externalId !== undefined && externalId !== null && externalId !== '' && typeof externalId !== 'string') {
    throw ScimError.invalidValue('externalId must be a string', 'externalId');
  }
  if (typeof externalId === 'string') refuseUnreadable(externalId, 'externalId');
  return {
    displayName,
    ...(typeof externalId === 'string' && externalId !== '' ? { externalId } : {}),
    members: memberIds(members),
  };
}

export function memberIds(members: unknown): string[] {
  if (members === undefined || members === null) return [];
  const list = Array.isArray(members) ? members : [members];
  if (list.length > MAX_MEMBERS) throw ScimError.invalidValue(`members holds more than ${MAX_MEMBERS} entries`, 'members');
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const m of list) {
    const value = isPlain(m) ? valueOf(m) : m;
    if (typeof value !== 'string' || value === '') throw ScimError.invalidValue('members[].value must be a non-empty string', 'members.value');
    if (!seen.has(value)) {
      seen.add(value);
      ids.push(value);
    }
  }
  return ids;
}

function valueOf(m: Plain): unknown {
  const key = Object.keys(m).find((k) => k.toLowerCase() === 'value');
  return key === undefined ? undefined : m[key];
}

function finishUser(doc: Plain): UserDocument {
  const userName = doc.userName;
  if (typeof userName !== 'string' || userName.trim() === '') throw ScimError.invalidValue('userName is required', 'userName');
  if (userName.length > MAX_IDENTIFIER) throw ScimError.invalidValue('userName is too long', 'userName');
  if (typeof doc.externalId === 'string' && doc.externalId.length > MAX_IDENTIFIER) {
    throw ScimError.invalidValue('externalId is too long', 'externalId');
  }
  refuseUnreadable(userName, 'userName');
  if (typeof doc.externalId === 'string') refuseUnreadable(doc.externalId, 'externalId');
  if (Array.isArray(doc.emails)) {
    for (const e of doc.emails) if (isPlain(e) && typeof e.value === 'string') refuseUnreadable(e.value, 'emails.value');
  }
  return { ...doc, userName, active: doc.active === undefined ? true : (doc.active as boolean) } as UserDocument;
}

function normalizeAttributes(input: Plain, definitions: readonly AttributeDefinition[], prefix: string, topLevel: boolean): Plain {
  const out: Plain = {};
  for (const [rawKey, value] of Object.entries(input)) {
    if (FORBIDDEN_KEYS.has(rawKey)) continue;
    if (topLevel && rawKey.toLowerCase().startsWith('urn:')) {
      handleUrnKey(rawKey, value, out);
      continue;
    }
    if (topLevel && rawKey.toLowerCase() === 'schemas') continue;
    const definition = findByName(definitions, rawKey) ?? (topLevel ? findByName(COMMON_ATTRIBUTES, rawKey) : undefined);
    if (!definition) continue;
    if (definition.mutability === 'readOnly' || definition.mutability === 'writeOnly') continue;
    const path = prefix ? `${prefix}.${definition.name}` : definition.name;
    const normalized = normalizeValue(definition, value, path);
    if (normalized !== undefined) out[definition.name] = normalized;
  }
  return out;
}

function handleUrnKey(rawKey: string, value: unknown, out: Plain): void {
  const lower = rawKey.toLowerCase();
  if (lower === ENTERPRISE_USER_URN.toLowerCase()) {
    if (value === null || value === undefined) return;
    if (!isPlain(value)) throw ScimError.invalidValue('The enterprise extension must be an object', ENTERPRISE_USER_URN);
    const ext = normalizeAttributes(value, ENTERPRISE_USER_SCHEMA.attributes, ENTERPRISE_USER_URN, false);
    if (Object.keys(ext).length > 0) out[ENTERPRISE_USER_URN] = ext;
    return;
  }
  const enterprisePrefix = `${ENTERPRISE_USER_URN.toLowerCase()}:`;
  if (lower.startsWith(enterprisePrefix)) {
    // `urn:…:enterprise:2.0:User:department` as a top-level key (aadOptscim062020 style).
    const inner = normalizeAttributes({ [rawKey.slice(enterprisePrefix.length)]: value }, ENTERPRISE_USER_SCHEMA.attributes, ENTERPRISE_USER_URN, false);
    if (Object.keys(inner).length > 0) out[ENTERPRISE_USER_URN] = { ...((out[ENTERPRISE_USER_URN] as Plain) ?? {}), ...inner };
    return;
  }
  const corePrefix = `${USER_SCHEMA_URN.toLowerCase()}:`;
  if (lower.startsWith(corePrefix)) {
    Object.assign(out, normalizeAttributes({ [rawKey.slice(corePrefix.length)]: value }, USER_SCHEMA.attributes, '', true));
  }
  // Any other schema URN (e.g. Microsoft's ADSCIM extension) is tolerated and ignored.
}

function normalizeValue(definition: AttributeDefinition, value: unknown, path: string): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  if (definition.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    if (list.length > MAX_VALUES) throw ScimError.invalidValue(`${path} holds more than ${MAX_VALUES} values`, path);
    const items = list.map((v) => normalizeSingle(definition, v, path)).filter((v) => v !== undefined);
    if (definition.type === 'complex' && items.filter((i) => isPlain(i) && i.primary === true).length > 1) {
      throw ScimError.invalidValue(`${path} has more than one primary value`, path);
    }
    return items.length > 0 ? items : undefined;
  }
  if (Array.isArray(value)) {
    // Entra sends the manager as [{"value": "…"}]; a one-element array for a single-valued
    // complex attribute is read as that element.
    if (definition.type === 'complex' && value.length <= 1) return value.length ? normalizeSingle(definition, value[0], path) : undefined;
    throw ScimError.invalidValue(`${path} must not be an array`, path);
  }
  return normalizeSingle(definition, value, path);
}

function normalizeSingle(definition: AttributeDefinition, value: unknown, path: string): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  switch (definition.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof value !== 'string') throw ScimError.invalidValue(`${path} must be a string`, path);
      if (value.length > MAX_STRING) throw ScimError.invalidValue(`${path} is too long`, path);
      return value;
    case 'boolean':
      return toBoolean(value, path);
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw ScimError.invalidValue(`${path} must be an integer`, path);
      return value;
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw ScimError.invalidValue(`${path} must be a number`, path);
      return value;
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw ScimError.invalidValue(`${path} must be a dateTime`, path);
      return value;
    case 'complex': {
      if (typeof value === 'string' && definition.name === 'manager') return { value };
      if (!isPlain(value)) {
        // A multi-valued attribute given plain values (["a@x"]) means their `value`s.
        if (definition.multiValued && typeof value === 'string') return normalizeSingle(definition, { value }, path);
        throw ScimError.invalidValue(`${path} must be an object`, path);
      }
      const inner = normalizeAttributes(value, definition.subAttributes ?? [], path, false);
      return Object.keys(inner).length > 0 ? inner : undefined;
    }
  }
}

/**
 * Identifiers are compared folded (fold-identifier.ts); a value whose fold would hide part of
 * it (NUL and other controls, zero-width characters, soft hyphens, a BOM, unpaired
 * surrogates, unassigned code points) could pose as another, so it is refused.
 */
function refuseUnreadable(value: string, path: string, allowIgnorable = false): void {
  const problem = identifierProblem(value, { allowIgnorable });
  if (problem !== undefined) throw ScimError.invalidValue(`${path} ${problem}`, path);
}

export function toBoolean(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw ScimError.invalidValue(`${path} must be a boolean`, path);
}

function stripUrn(key: string, urn: string): string {
  return key.toLowerCase().startsWith(`${urn.toLowerCase()}:`) ? key.slice(urn.length + 1) : key;
}

export function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
