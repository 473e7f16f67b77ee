/** RFC 7644 §3.12 `scimType` values. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  // RFC 9865 §4 (cursor paging)
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * A protocol-level refusal (bad filter, bad PATCH path, wrong type …). Thrown by the pure
 * SCIM code; the HTTP exception filter renders it. `detail` must name the offending
 * attribute and never echo personal data from the request.
 */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    readonly detail: string,
    /** The attribute path concerned, for the audit record (no values). */
    readonly attribute?: string,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  static invalidFilter(detail: string, attribute?: string) {
    return new ScimError(400, 'invalidFilter', detail, attribute);
  }
  static invalidPath(detail: string, attribute?: string) {
    return new ScimError(400, 'invalidPath', detail, attribute);
  }
  static invalidValue(detail: string, attribute?: string) {
    return new ScimError(400, 'invalidValue', detail, attribute);
  }
  static invalidSyntax(detail: string, attribute?: string) {
    return new ScimError(400, 'invalidSyntax', detail, attribute);
  }
  static mutability(detail: string, attribute?: string) {
    return new ScimError(400, 'mutability', detail, attribute);
  }
  static noTarget(detail: string, attribute?: string) {
    return new ScimError(400, 'noTarget', detail, attribute);
  }

  toJSON() {
    return {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.detail,
    };
  }
}
