import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountWriter, type ErasedIdentifier, hashIdentifier, IDENTITY_DIRECTORY, type IdentityDirectory, InvalidCommand, ResourceNotFound, runCommand, uniqueValues } from '@app/identity';
import type { IdentifierHistoryHandle } from '@app/support';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { EventStore, RecordedEvent } from '@app/event-store';
import { DataKeyStore } from './data-key-store';
import { PersonalDataSealer } from './personal-data.sealer';
import { ERASURE_HOUSEKEEPING, ERASURE_KEEPS_UNIQUE_VALUES, ErasePersonCommand, RAW_EVENT_STORE_FOR_ERASURE, type ErasureHousekeeping, type ErasureResult } from './erase-person.command';

/**
 * Erasure: `AccountErased` first (through the account decider, so the unique values it held are
 * released in the same commit and a concurrent write to the person conflicts and retries into
 * a 404), then the key is destroyed. Re-running it on an erased person finishes the job (a
 * crash between the two steps leaves a key that the next run destroys).
 */
@CommandHandler(ErasePersonCommand)
export class ErasePersonHandler implements ICommandHandler<ErasePersonCommand, ErasureResult> {
  constructor(
    private readonly writer: AccountWriter,
    private readonly keys: DataKeyStore,
    private readonly ryw: ReadYourWrites,
    private readonly runner: ProjectionRunner,
    private readonly sealer: PersonalDataSealer,
    @Inject(RAW_EVENT_STORE_FOR_ERASURE) private readonly stored: EventStore,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
    @Optional() @Inject(ERASURE_HOUSEKEEPING) private readonly housekeeping?: ErasureHousekeeping,
    @Optional() @Inject(ERASURE_KEEPS_UNIQUE_VALUES) private readonly keepUniqueValues = false,
  ) {}

  async execute({ request, dryRun, ctx }: ErasePersonCommand): Promise<ErasureResult> {
    const accountId = await this.accountOf(request);
    if (dryRun) return this.plan(accountId);
    let alreadyErased = false;
    const revision = await runCommand(undefined, async () => {
      this.writer.repository.forget(accountId);
      const loaded = await this.writer.repository.load(accountId);
      if (!loaded.state.exists) throw new ResourceNotFound('Account', accountId);
      if (loaded.state.erased) {
        alreadyErased = true;
        return loaded.revision;
      }
      const command = { type: 'EraseAccount' as const, now: this.writer.now(), keepUniqueValues: this.keepUniqueValues, identifiers: await this.identifiersOf(accountId) };
      return (await this.writer.execute({ accountId, loaded, command, ctx, scope: 'instance' })).revision;
    });
    const keyDestroyed = await this.keys.erase(accountId);
    this.sealer.forgetPerson(accountId);
    // The folded state in memory holds their values: it goes too.
    this.writer.repository.forget(accountId);
    await this.ryw.settle();
    await this.housekeeping?.afterErasure();
    return { dryRun: false, accountId, revision: revision.toString(), keyDestroyed, alreadyErased, plaintextEvents: await this.plaintextEvents(accountId) };
  }

  private async plan(accountId: string): Promise<ErasureResult> {
    const { state, revision } = await this.writer.repository.load(accountId);
    if (!state.exists || state.erased) throw new ResourceNotFound('Account', accountId);
    const held = [...uniqueValues(state).values()];
    return {
      dryRun: true,
      accountId,
      identities: Object.values(state.identities)
        .filter((i) => !i.unlinked)
        .map((i) => ({ id: i.id, scope: i.scope, userName: i.userName, active: i.active, deleted: i.deleted })),
      events: Number(revision + 1n),
      uniqueValues: { count: held.length, kinds: [...new Set(held.map((h) => h.kind))], after: this.keepUniqueValues ? 'kept' : 'released' },
      plaintextEvents: await this.plaintextEvents(accountId),
    };
  }

  /**
   * Every identifier the person held (support's history), as keyed hashes: after the erasure,
   * "who held X" and the NameID doctor can still say "an erased person", and nothing more.
   */
  private async identifiersOf(accountId: string): Promise<ErasedIdentifier[]> {
    await this.ryw.settle();
    const spans = this.runner.handle<IdentifierHistoryHandle>('identifier-history').ofAccount(accountId);
    return spans.map((s) => ({ kind: s.kind, hash: hashIdentifier(s.value, this.writer.valueHash), identityId: s.identityId, scope: s.scope, from: s.from, to: s.to }));
  }

  /** Events of the person's stream, as stored, that hold personal values in the clear. */
  private async plaintextEvents(accountId: string): Promise<number> {
    let events: RecordedEvent[];
    try {
      events = await this.stored.readStream(`account-${accountId}`);
    } catch {
      return 0;
    }
    return events.filter((e) => this.sealer.holdsPlaintext(e)).length;
  }

  private async accountOf(request: { accountId?: string; scimId?: string }): Promise<string> {
    if (request.accountId) return request.accountId;
    if (!request.scimId) throw new InvalidCommand('accountId or scimId is required');
    const found = (await this.directory.accountsOfIdentities([request.scimId])).get(request.scimId);
    if (!found) throw new ResourceNotFound('Identity', request.scimId);
    return found;
  }
}
