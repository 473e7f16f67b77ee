import { ScimError } from '@app/scim';

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PATH = /^\/(Users|Groups)(\/[^/?#]+)?$/;

export interface BulkOperation {
  method: string;
  path: string;
  bulkId?: string;
  version?: string;
  data?: unknown;
}

/** The BulkRequest envelope (RFC 7644 §3.7): a malformed one is refused whole, before any operation runs. */
export function parseBulk(body: unknown, maxOperations: number): { operations: BulkOperation[]; failOnErrors?: number } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ScimError.invalidSyntax('The bulk request must be a JSON object');
  const b = body as Record<string, unknown>;
  const schemas = b.schemas;
  if (Array.isArray(schemas) && !schemas.includes(BULK_REQUEST)) throw ScimError.invalidSyntax('schemas must contain the BulkRequest URN');
  const ops = b.Operations ?? b.operations;
  if (!Array.isArray(ops)) throw ScimError.invalidSyntax('Operations must be an array');
  if (ops.length > maxOperations) {
    throw new ScimError(413, undefined, `A bulk request may hold at most ${maxOperations} operations`);
  }
  const failOnErrors = b.failOnErrors;
  if (failOnErrors !== undefined && (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)) {
    throw ScimError.invalidValue('failOnErrors must be a positive integer', 'failOnErrors');
  }
  const operations = ops.map((raw, i): BulkOperation => {
    if (typeof raw !== 'object' || raw === null) throw ScimError.invalidSyntax(`Operations[${i}] must be an object`);
    const o = raw as Record<string, unknown>;
    const method = typeof o.method === 'string' ? o.method.toUpperCase() : '';
    if (!METHODS.has(method)) throw ScimError.invalidValue(`Operations[${i}].method must be POST, PUT, PATCH or DELETE`, 'method');
    if (typeof o.path !== 'string' || !PATH.test(o.path.replace(/bulkId:[^/]+/, 'x'))) {
      throw ScimError.invalidValue(`Operations[${i}].path must be /Users, /Groups or /<type>/<id>`, 'path');
    }
    if (method === 'POST' && typeof o.bulkId !== 'string') throw ScimError.invalidValue(`Operations[${i}].bulkId is required for POST`, 'bulkId');
    return {
      method,
      path: o.path,
      ...(typeof o.bulkId === 'string' ? { bulkId: o.bulkId } : {}),
      ...(typeof o.version === 'string' ? { version: o.version } : {}),
      ...(o.data !== undefined ? { data: o.data } : {}),
    };
  });
  return { operations, ...(typeof failOnErrors === 'number' ? { failOnErrors } : {}) };
}
