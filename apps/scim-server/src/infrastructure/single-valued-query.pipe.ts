import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { InvalidCommand } from '@app/identity';

/**
 * Every query parameter this API reads takes one value. Fastify hands a repeated parameter
 * (`?sortOrder=a&sortOrder=b`) to the handler as an array, which no handler expects; and SCIM
 * names are case-insensitive, so `filter` and `Filter` are the same parameter given twice.
 * Either is refused here, once for every route, with a 400 naming the parameter — rather than
 * letting each handler guess which value was meant.
 */
@Injectable()
export class SingleValuedQueryPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'query') return value;
    if (metadata.data !== undefined) {
      if (Array.isArray(value)) throw repeated(metadata.data);
      return value;
    }
    if (typeof value !== 'object' || value === null) return value;
    const seen = new Set<string>();
    for (const [name, v] of Object.entries(value)) {
      const folded = name.toLowerCase();
      if (Array.isArray(v) || seen.has(folded)) throw repeated(name);
      seen.add(folded);
    }
    return value;
  }
}

function repeated(name: string): InvalidCommand {
  // The name is echoed only when it is short and plain: it may be any text the client sent.
  const shown = /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? name : 'a query parameter';
  return new InvalidCommand(`${shown} is given more than once; give each query parameter once`, shown);
}
