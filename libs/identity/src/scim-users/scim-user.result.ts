import type { AccountState, IdentityState } from '../account.decider';

/** What a SCIM write returns: the identity as the write side now knows it. */
export interface ScimUserWriteResult {
  readonly account: AccountState;
  readonly identity: IdentityState;
  /** Account stream revision: the resource version (`W/"<revision>"`). */
  readonly revision: bigint;
  /** True when a POST brought back an identity instead of creating one. */
  readonly revived: boolean;
}
