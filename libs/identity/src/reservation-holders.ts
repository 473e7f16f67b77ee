import { type EventStore, type RecordedEvent, StreamNotFoundError } from '@app/event-store';
import { foldAccount } from './account.repository';
import { uniqueValues } from './account.unique-values';
import { groupEvents } from './group.events';
import { groupDecider, groupHolds } from './groups/group.decider';
import { foldValue, type ReservationKey, type ReservationOwner } from './reservations';
import { scimGroupEvents } from './scim-group.events';
import { scimGroupDecider } from './scim-groups/scim-group.decider';

/**
 * Whether the owner named by a reservation holds the reserved value in its stream's current
 * state. A reservation whose owner does not (its write failed after the claim, or a release
 * failed after the owner let go) is an orphan once old enough; existence of the owner stream
 * alone says nothing, since a claim for an existing account or group would then stay locked
 * for ever.
 */
export type OwnerHoldsValue = (owner: ReservationOwner, key: ReservationKey) => Promise<boolean>;

export function ownerHoldsValue(store: Pick<EventStore, 'readStream'>): OwnerHoldsValue {
  return async (owner, key) => {
    let events: RecordedEvent[];
    try {
      events = await store.readStream(owner.stream);
    } catch (err) {
      if (err instanceof StreamNotFoundError) return false;
      throw err;
    }
    return holds(owner, key, events);
  };
}

function holds(owner: ReservationOwner, key: ReservationKey, events: readonly RecordedEvent[]): boolean {
  const value = foldValue(key.value);
  if (owner.stream.startsWith('account-')) {
    const claim = uniqueValues(foldAccount(events)).get(`${key.kind}|${key.scopeKey}|${value}`);
    return claim !== undefined && claim.owner.stream === owner.stream && claim.owner.id === owner.id;
  }
  if (owner.stream.startsWith('scimGroup-')) {
    const state = scimGroupEvents.decodeAll(events).reduce(scimGroupDecider.evolve, scimGroupDecider.initialState());
    return (
      key.kind === 'displayName' &&
      state.exists &&
      !state.deleted &&
      state.scope === key.scopeKey &&
      foldValue(state.displayName) === value
    );
  }
  if (owner.stream.startsWith('group-')) {
    return groupHolds(groupEvents.decodeAll(events).reduce(groupDecider.evolve, groupDecider.initialState()), key.kind, value);
  }
  // An owner kind this check does not know: its stream's existence is the best evidence there is.
  return events.length > 0;
}
