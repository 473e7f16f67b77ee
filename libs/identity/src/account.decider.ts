import type { Decider } from '@app/decider';
import { type AccountCommand, decide } from './account.decide';
import { evolve } from './account.evolve';
import { type AccountState, initialState } from './account.state';
import type { Occurred } from './event-family';
import type { AccountEvent } from './events';

/**
 * The account decider: a person, every SCIM identity they have in any scope, and their
 * group memberships, in one stream. One stream per person makes the effects of one SCIM
 * call (identity deactivated + account blocked, or + memberships removed) atomic on every
 * store, and a person's timeline and past state are a read and a fold of one stream.
 * Pure: no I/O, no clock (commands carry `now`, events carry it on), no randomness (ids
 * come in with the commands).
 *
 * The rooms: account.state.ts (the state and queries over it), account.evolve.ts (what each
 * event does), account.decide.ts (what each command causes), account.memberships.ts and
 * membership-sync.ts (access rules both of them share).
 */
export const accountDecider: Decider<AccountCommand, Occurred<AccountEvent>, AccountState> = {
  initialState,
  evolve,
  decide,
};

export * from './account.state';
export { evolve, evolveIdentity, identityStatusChange, type IdentityEvent, type IdentityFlags, type IdentityStatusEvent } from './account.evolve';
export { type AccountCommand, decide, type DeprovisionContext, type ReprovisionContext } from './account.decide';
export { setMembership } from './account.memberships';
