import type { AppendResult, EventStore } from '@app/event-store';
import { foldEvents } from '@app/decider';
import type { AccountCommand } from './account.decide';
import { accountDecider } from './account.decider';
import type { AccountState } from './account.state';
import { AccountRepository, type LoadedAccount } from './account.repository';
import { type CommandContext, eventMetadata } from './event-envelope';
import type { Occurred } from './event-family';
import { type AccountEvent, accountStream } from './events';
import type { Clock } from './ports';
import { uniqueValues } from './account.unique-values';
import { type ReservationMemo, UnitOfWork } from './unit-of-work';
import { sha256ValueHash, type ValueHash } from './reservations';
import type { ScopeId } from './scope';

export interface AccountWriteResult {
  readonly accountId: string;
  readonly state: AccountState;
  readonly revision: bigint;
  readonly position: bigint;
  readonly events: readonly Occurred<AccountEvent>[];
}

/** One account decision to commit. */
export interface AccountWrite {
  readonly accountId: string;
  /** The account as loaded (or a fresh state for a new one), and the revision it was folded up to. */
  readonly loaded: LoadedAccount;
  /** Carries `now` from the CLOCK: the time its events happen. */
  readonly command: AccountCommand;
  readonly ctx: CommandContext;
  readonly scope: ScopeId | 'instance';
  /** Reservation states this attempt already read. */
  readonly memo?: ReservationMemo;
}

/**
 * Load → decide → commit for the account stream. The unique values an account holds are
 * derived from its state, so the claims and releases of a decision are the difference
 * between the state before and after it: no handler can forget one.
 */
export class AccountWriter {
  readonly uow: UnitOfWork;
  readonly repository: AccountRepository;

  constructor(
    readonly store: EventStore,
    private readonly clock: Clock,
    /** How unique values become reservation stream names (the composition root's IDENTIFIER_HASH). */
    readonly valueHash: ValueHash = sha256ValueHash,
  ) {
    this.uow = new UnitOfWork(store, () => clock.now(), undefined, valueHash);
    this.repository = new AccountRepository(store);
  }

  /** The time a command built now happens at (its `now`). */
  now(): string {
    return this.clock.now().toISOString();
  }

  async execute({ accountId, loaded, command, ctx, scope, memo }: AccountWrite): Promise<AccountWriteResult> {
    const events = accountDecider.decide(command, loaded.state);
    if (events.length === 0) {
      return { accountId, state: loaded.state, revision: loaded.revision, position: -1n, events };
    }
    const after = foldEvents(accountDecider.evolve, events, loaded.state);
    const before = uniqueValues(loaded.state);
    const now = uniqueValues(after);
    const claims = [...now.entries()].filter(([k]) => !before.has(k)).map(([, c]) => c);
    const releases = [...before.entries()].filter(([k]) => !now.has(k)).map(([, c]) => c);
    // Every event of a decision happens at the command's `now`. As the account family encodes
    // them (event-family.ts), that time goes into the metadata the commit gives them all, and
    // the unit of work stores each event's `type` and `data` only: the payload is exactly `data`.
    const metadata = eventMetadata(ctx, scope, command.now);
    let result: AppendResult;
    try {
      result = await this.uow.commit({
        writes: [
          {
            streamId: accountStream(accountId),
            expectedRevision: loaded.revision < 0n ? 'no_stream' : loaded.revision,
            events,
          },
        ],
        claims,
        releases,
        metadata,
        ...(memo ? { memo } : {}),
      });
    } catch (err) {
      this.repository.forget(accountId);
      throw err;
    }
    const revision = loaded.revision + BigInt(events.length);
    this.repository.remember(accountId, { state: after, revision });
    return { accountId, state: after, revision, position: result.position, events };
  }
}

// Its home is account.unique-values.ts (the reservation check reads it too); kept here for importers.
export { uniqueValues };
