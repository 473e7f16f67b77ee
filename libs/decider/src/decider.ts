/**
 * A decider: the three pure functions that are the whole of an aggregate's rules
 * (Jérémie Chassaing's pattern, as emmett writes it). `decide` says which events a command
 * causes in a state, or throws a domain error; `evolve` says what an event does to the state;
 * a stream's state is `initialState()` folded with `evolve` over its events. No I/O, no clock,
 * no randomness: times and ids come in with the commands and travel on the events.
 */
export interface Decider<Command, Event, State> {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Event) => State;
  readonly decide: (command: Command, state: State) => readonly Event[];
}

/** The state after `events`, from `from` (the initial state unless a cached fold is given). */
export function foldEvents<Event, State>(
  evolve: (state: State, event: Event) => State,
  events: Iterable<Event>,
  from: State,
): State {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}
