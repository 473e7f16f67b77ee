import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, StreamNotFoundError } from '@app/event-store';
import { runCommand } from '../command-runner';
import { eventMetadata } from '../event-envelope';
import { ResourceNotFound } from '../errors';
import { groupEvents, groupStream } from '../group.events';
import { CLOCK, type Clock, IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { type Claim, UnitOfWork } from '../unit-of-work';
import { ChangeGroupSettingsCommand } from './create-group.command';
import { decide, evolve, type GroupState, groupReservations, initialState } from './group.decider';

/** Default membership role and verified domains of a group: load by path, decide, append. */
@CommandHandler(ChangeGroupSettingsCommand)
export class ChangeGroupSettingsHandler implements ICommandHandler<ChangeGroupSettingsCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(c: ChangeGroupSettingsCommand): Promise<{ position: bigint }> {
    const found = await this.directory.groupByPath(c.fullPath);
    if (!found) throw new ResourceNotFound('Group', c.fullPath);
    const stream = groupStream(found.id);
    return runCommand(undefined, async () => {
      const loaded = await this.load(stream);
      const now = this.clock.now().toISOString();
      const events = decide(
        {
          type: 'ChangeGroupSettings',
          fullPath: c.fullPath,
          ...(c.settings.defaultMembershipRole ? { defaultMembershipRole: c.settings.defaultMembershipRole } : {}),
          ...(c.settings.verifiedDomains ? { verifiedDomains: c.settings.verifiedDomains } : {}),
          now,
        },
        loaded.state,
      );
      if (events.length === 0) return { position: -1n };
      const { claims, releases } = groupReservations(loaded.state, events.reduce(evolve, loaded.state));
      const owner = { stream, id: found.id };
      const claim = (k: (typeof claims)[number]): Claim => ({ ...k, scopeKey: 'instance', owner });
      const r = await new UnitOfWork(this.store, () => this.clock.now()).commit({
        writes: [{ streamId: stream, expectedRevision: loaded.revision, events }],
        claims: claims.map(claim),
        releases: releases.map(claim),
        metadata: eventMetadata(c.ctx, 'instance', now),
      });
      return { position: r.position };
    });
  }

  private async load(stream: string): Promise<{ state: GroupState; revision: bigint }> {
    try {
      const events = await this.store.readStream(stream);
      return { state: groupEvents.decodeAll(events).reduce(evolve, initialState()), revision: events[events.length - 1].revision };
    } catch (err) {
      // Found by the read model but not in the store: gone, as far as this command can tell.
      if (err instanceof StreamNotFoundError) return { state: initialState(), revision: -1n };
      throw err;
    }
  }
}
