import { describe, expect, it } from '@jest/globals';
import type { Decider } from '../decider';
import { DeciderSpecification } from './decider-specification';

// A turnstile: the smallest decider with a refusal, a no-op and a multi-event decision.
type Event = { type: 'Unlocked'; coin: number } | { type: 'Passed' };
type Command = { type: 'InsertCoin'; coin: number } | { type: 'Push' } | { type: 'PushTwice' };
type State = { locked: boolean };
class Locked extends Error {}

const turnstile: Decider<Command, Event, State> = {
  initialState: () => ({ locked: true }),
  evolve: (state, event) => (event.type === 'Unlocked' ? { locked: false } : { locked: true }),
  decide: (command, state) => {
    switch (command.type) {
      case 'InsertCoin':
        return state.locked ? [{ type: 'Unlocked', coin: command.coin }] : [];
      case 'Push':
        if (state.locked) throw new Locked('insert a coin first');
        return [{ type: 'Passed' }];
      case 'PushTwice':
        return [{ type: 'Passed' }, { type: 'Passed' }];
    }
  },
};
const spec = DeciderSpecification.for(turnstile);

describe('DeciderSpecification', () => {
  it('passes when the events are exactly the expected ones', () => {
    spec.given([]).when({ type: 'InsertCoin', coin: 1 }).then([{ type: 'Unlocked', coin: 1 }]);
    spec.given([{ type: 'Unlocked', coin: 1 }]).when({ type: 'InsertCoin', coin: 2 }).thenNothingHappened();
    spec.given([]).when({ type: 'Push' }).thenThrows(Locked, (e) => e.message === 'insert a coin first');
  });

  it('fails on a missing, an extra or a partly matching event', () => {
    expect(() => spec.given([]).when({ type: 'PushTwice' }).then([{ type: 'Passed' }])).toThrow();
    expect(() => spec.given([]).when({ type: 'InsertCoin', coin: 1 }).then([])).toThrow();
    expect(() => spec.given([]).when({ type: 'InsertCoin', coin: 1 }).then([{ type: 'Unlocked' } as Event])).toThrow();
  });

  it('fails when something happened but nothing was expected', () => {
    expect(() => spec.given([]).when({ type: 'InsertCoin', coin: 1 }).thenNothingHappened()).toThrow();
  });

  it('fails when the command is accepted, refused with another error, or refused for another reason', () => {
    expect(() => spec.given([{ type: 'Unlocked', coin: 1 }]).when({ type: 'Push' }).thenThrows(Locked)).toThrow(/accepted/);
    expect(() => spec.given([]).when({ type: 'Push' }).thenThrows(RangeError)).toThrow();
    expect(() => spec.given([]).when({ type: 'Push' }).thenThrows(Locked, (e) => e.message === 'other')).toThrow(/check/);
  });
});
