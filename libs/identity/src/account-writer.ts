import type { AppendResult, EventStore } from '@app/event-store';
import { type AccountCommand, type AccountState, decide, evolve } from './account.decider';
import { AccountRepository, type LoadedAccount } from './account.repository';
import { type CommandContext, eventMetadata } from './event-envelope';
import { PreconditionFailed } from './errors';
import { type AccountEvent, accountStream } from './events';
import type { Clock } from './ports';
import type { ReservationKey } from './reservations';
import { foldValue } from './reservations';
import { type Claim, type ReservationMemo, UnitOfWork } from './unit-of-work';
import type { ScopeId } from './scope';

export interface AccountWriteResult {
  readonly accountId: string;
  readonly state: AccountState;
  readonly revision: bigint;
  readonly position: bigint;
  readonly events: readonly AccountEvent[];
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
  ) {
    this.uow = new UnitOfWork(store, () => clock.now());
    this.repository = new AccountRepository(store);
  }

  now(): string {
    return this.clock.now().toISOString();
  }

  async execute(
    accountId: string,
    loaded: LoadedAccount,
    command: AccountCommand,
    ctx: CommandContext,
    scope: ScopeId | 'instance',
    ifMatch?: bigint,
    memo?: ReservationMemo,
  ): Promise<AccountWriteResult> {
    if (ifMatch !== undefined && ifMatch !== loaded.revision) throw new PreconditionFailed();
    const events = decide(command, loaded.state);
    const occurredAt = this.now();
    if (events.length === 0) {
      return { accountId, state: loaded.state, revision: loaded.revision, position: -1n, events };
    }
    const after = events.reduce((s, e) => evolve(s, e, occurredAt), loaded.state);
    const before = uniqueValues(loaded.state);
    const now = uniqueValues(after);
    const claims = [...now.entries()].filter(([k]) => !before.has(k)).map(([, c]) => c);
    const releases = [...before.entries()].filter(([k]) => !now.has(k)).map(([, c]) => c);
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
        metadata: eventMetadata(ctx, scope, occurredAt),
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

/** Every unique value an account holds, keyed so that equal values compare equal. */
export function uniqueValues(state: AccountState): Map<string, Claim> {
  const values = new Map<string, Claim>();
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
