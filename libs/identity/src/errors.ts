/**
 * Domain errors: plain classes, no HTTP. One exception filter maps them to SCIM errors.
 * Details name attributes and ids, never personal values.
 */
export abstract class DomainError extends Error {
  override readonly name: string = this.constructor.name;
  /** Machine-readable reason, recorded with ProvisioningRejected. */
  abstract readonly reason: string;
}

export type UniqueKind = 'userName' | 'externalId' | 'nameId' | 'email' | 'username' | 'displayName' | 'groupPath' | 'domain' | 'account';

export class UniquenessViolation extends DomainError {
  readonly reason = 'uniqueness';
  constructor(
    readonly kind: UniqueKind,
    detail: string,
    /** Id of the identity (or account, group) that holds the value: for the audit trail, never shown to the client. */
    readonly holderId?: string,
  ) {
    super(detail);
  }
}

export class ResourceNotFound extends DomainError {
  readonly reason = 'not_found';
  constructor(readonly resource: string, readonly id: string) {
    super(`${resource} ${id} not found`);
  }
}

/** If-Match did not match the current version. */
export class PreconditionFailed extends DomainError {
  readonly reason = 'precondition_failed';
  constructor(detail = 'The resource was modified: the If-Match version is not current') {
    super(detail);
  }
}

export class LastOwnerViolation extends DomainError {
  readonly reason = 'last_owner';
  constructor(readonly groupId: string) {
    super(`The account is the last owner of group ${groupId} and cannot be deprovisioned from it`);
  }
}

export class InvalidCommand extends DomainError {
  readonly reason = 'invalid_value';
  constructor(
    detail: string,
    readonly attribute?: string,
  ) {
    super(detail);
  }
}

export class Conflict extends DomainError {
  readonly reason = 'conflict';
}

export class Forbidden extends DomainError {
  readonly reason = 'forbidden';
}
