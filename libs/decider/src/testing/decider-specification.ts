import { expect } from '@jest/globals';
import type { Decider } from '../decider';

type ErrorClass = abstract new (...args: never[]) => Error;

export interface DeciderThen<Event> {
  /** The command causes exactly these events, in this order, and nothing else. */
  then(expected: readonly Event[]): void;
  /** The command is accepted and changes nothing (an idempotent repeat, a no-op PATCH). */
  thenNothingHappened(): void;
  /** The command is refused with a domain error of this class (and, if given, matching the check). */
  thenThrows<E extends Error>(errorClass: abstract new (...args: never[]) => E, check?: (error: E) => boolean | void): void;
}

export interface DeciderWhen<Command, Event> {
  when(command: Command): DeciderThen<Event>;
}

/**
 * `given(events).when(command).then(events)` for a decider, in the style of emmett's
 * `DeciderSpecification`: the past is a list of events (not a hand-built state, so a test
 * cannot describe a state `evolve` would never produce), and the outcome is compared whole —
 * an extra or missing event fails the test.
 */
export const DeciderSpecification = {
  for<Command, Event, State>(decider: Decider<Command, Event, State>) {
    return {
      given(history: readonly Event[]): DeciderWhen<Command, Event> {
        return {
          when(command: Command): DeciderThen<Event> {
            const run = () => decider.decide(command, history.reduce(decider.evolve, decider.initialState()));
            return {
              then(expected) {
                expect(run()).toStrictEqual(expected);
              },
              thenNothingHappened() {
                expect(run()).toStrictEqual([]);
              },
              thenThrows(errorClass: ErrorClass, check?: (error: never) => boolean | void) {
                let thrown: unknown;
                let events: readonly Event[] | undefined;
                try {
                  events = run();
                } catch (err) {
                  thrown = err;
                }
                if (thrown === undefined) {
                  throw new Error(`Expected ${errorClass.name}, but the command was accepted with ${JSON.stringify(events)}`);
                }
                expect(thrown).toBeInstanceOf(errorClass);
                if (check && check(thrown as never) === false) {
                  throw new Error(`${errorClass.name} was thrown but did not pass the check: ${(thrown as Error).message}`);
                }
              },
            };
          },
        };
      },
    };
  },
};

