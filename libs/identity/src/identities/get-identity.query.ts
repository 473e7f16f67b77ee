import type { AccountState, IdentityState } from '../account.state';
import type { GroupInfo } from '../ports';

/** One SCIM identity (by its SCIM id, in any scope) and its account, from the write side. */
export class GetIdentityQuery {
  constructor(readonly scimId: string) {}
}

export interface IdentityWithAccount {
  readonly identity: IdentityState;
  readonly account: AccountState;
  /** The group of a group-scope identity (absent for the instance scope, or a group since removed). */
  readonly group?: GroupInfo;
}
