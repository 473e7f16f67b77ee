/**
 * The work one filter or PATCH path may ask for. Real IdPs send one to three terms (Okta
 * `userName eq "…"`, Entra `emails[type eq "work"].value eq "…"`); these bounds are one to two
 * orders of magnitude above that, and low enough that the worst accepted filter costs a small,
 * fixed number of table scans rather than one per term. Exceeding one is a 400 naming it.
 */
export const FILTER_LIMITS = {
  /** Characters in a `filter` parameter. */
  maxLength: 4096,
  /** Attribute expressions (`attr op value`, `attr pr`), value-path members included. */
  maxTerms: 50,
  /** Nesting of parentheses, `not (…)` and value paths. */
  maxDepth: 10,
  /** Attribute expressions inside one value path `attr[…]`. */
  maxValuePathTerms: 10,
  /**
   * Walks of the stored JSON document per row (conditions on attributes without their own
   * column; or-joined conditions on one multi-valued attribute share a walk). Each walk is a
   * full scan: about 1 s per 100k users on a loaded 2-core machine.
   */
  maxDocumentScans: 4,
} as const;

/** A PATCH `path`: the attribute, its value filter and sub-attribute. */
export const PATCH_PATH_LIMITS = {
  maxLength: 1024,
} as const;
