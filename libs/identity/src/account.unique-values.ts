import type { AccountState } from './account.state';
import { accountStream } from './events';
import { foldValue, type ReservationKey, type ReservationOwner } from './reservations';

/** A unique value and the stream (and identity) that holds it. */
export type HeldValue = ReservationKey & { readonly owner: ReservationOwner };

/** Every unique value an account holds, keyed so that equal values compare equal. */
export function uniqueValues(state: AccountState): Map<string, HeldValue> {
  const values = new Map<string, HeldValue>();
  if (!state.exists) return values;
  const stream = accountStream(state.id);
  const add = (key: ReservationKey, ownerId: string) =>
    values.set(`${key.kind}|${key.scopeKey}|${foldValue(key.value)}`, { ...key, owner: { stream, id: ownerId } });
  add({ kind: 'username', scopeKey: 'instance', value: state.username }, state.id);
  if (state.email) add({ kind: 'email', scopeKey: 'instance', value: state.email }, state.id);
  for (const identity of Object.values(state.identities)) {
    if (identity.unlinked) continue;
    add({ kind: 'userName', scopeKey: identity.scope, value: identity.userName }, identity.id);
    add({ kind: 'nameId', scopeKey: identity.scope, value: identity.samlNameId }, identity.id);
  }
  return values;
}
