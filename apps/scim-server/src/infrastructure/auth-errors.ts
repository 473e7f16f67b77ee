/** No, an invalid, expired or revoked token, or a token of another scope. */
export class AuthenticationRequired extends Error {
  constructor(readonly detail = 'A valid bearer token for this scope is required') {
    super(detail);
    this.name = 'AuthenticationRequired';
  }
}

/** A valid management token whose role may not do this. */
export class RoleForbidden extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'RoleForbidden';
  }
}
