import type { ResolvedAttribute } from '../schema/schema.types';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;

export type FilterNode =
  | { readonly kind: 'compare'; readonly attr: ResolvedAttribute; readonly op: CompareOp; readonly value: Literal }
  | { readonly kind: 'present'; readonly attr: ResolvedAttribute }
  | { readonly kind: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly node: FilterNode }
  /** `emails[type eq "work" and primary eq true]`: the inner filter applies to one element. */
  | { readonly kind: 'valuePath'; readonly attr: ResolvedAttribute; readonly filter: FilterNode };

export type Resolver = (path: string) => ResolvedAttribute | undefined;
