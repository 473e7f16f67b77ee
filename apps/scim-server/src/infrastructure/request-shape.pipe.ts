import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { InvalidCommand } from '@app/identity';

/**
 * The shape every handler assumes, checked once for every route:
 *
 * - Every query parameter this API reads takes one value. Fastify hands a repeated parameter
 *   (`?sortOrder=a&sortOrder=b`) to the handler as an array, which no handler expects; and
 *   SCIM names are case-insensitive, so `filter` and `Filter` are the same parameter given
 *   twice. Either is a 400 naming the parameter, rather than each handler guessing which
 *   value was meant.
 * - A body bound to a DTO class is a JSON object. The validation pipe lets a missing body
 *   through untouched (every field of a settings DTO is optional), and the handler would then
 *   read fields of `undefined`.
 */
@Injectable()
export class RequestShapePipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'query') return singleValued(value, metadata.data);
    if (metadata.type === 'body' && isDto(metadata.metatype) && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new InvalidCommand('The request body must be a JSON object');
    }
    return value;
  }
}

function singleValued(value: unknown, name: string | undefined): unknown {
  if (name !== undefined) {
    if (Array.isArray(value)) throw repeated(name);
    return value;
  }
  if (typeof value !== 'object' || value === null) return value;
  const seen = new Set<string>();
  for (const [key, v] of Object.entries(value)) {
    const folded = key.toLowerCase();
    if (Array.isArray(v) || seen.has(folded)) throw repeated(key);
    seen.add(folded);
  }
  return value;
}

function isDto(metatype: ArgumentMetadata['metatype']): boolean {
  return typeof metatype === 'function' && ![Object, String, Number, Boolean, Array].includes(metatype as never);
}

function repeated(name: string): InvalidCommand {
  // The name is echoed only when it is short and plain: it may be any text the client sent.
  const shown = /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? name : 'a query parameter';
  return new InvalidCommand(`${shown} is given more than once; give each query parameter once`, shown);
}
