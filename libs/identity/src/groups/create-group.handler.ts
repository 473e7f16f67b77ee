import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, timeOrderedId } from '@app/event-store';
import { ACCESS_LEVELS } from '../access-level';
import { runCommand } from '../command-runner';
import { eventMetadata } from '../event-envelope';
import { groupStream } from '../group.events';
import { CLOCK, type Clock, type GroupInfo, IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { type Claim, UnitOfWork } from '../unit-of-work';
import { CreateGroupCommand } from './create-group.command';
import { decide, evolve, groupReservations, initialState } from './group.decider';

/**
 * Creates a group (GitLab namespace): finds the parent the request names, asks the group
 * decider, appends with the reservations it implies (so two racing requests cannot both win).
 */
@CommandHandler(CreateGroupCommand)
export class CreateGroupHandler implements ICommandHandler<CreateGroupCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(c: CreateGroupCommand): Promise<GroupInfo & { position: bigint }> {
    const parentPath = c.options.parentPath;
    const parent = parentPath !== undefined ? await this.directory.groupByPath(parentPath) : undefined;
    const id = timeOrderedId();
    return runCommand(undefined, async () => {
      const now = this.clock.now().toISOString();
      const before = initialState();
      const events = decide(
        {
          type: 'CreateGroup',
          groupId: id,
          path: c.path,
          name: c.name,
          ...(parentPath !== undefined ? { parentPath } : {}),
          ...(parent ? { parent } : {}),
          ...(c.options.defaultMembershipRole ? { defaultMembershipRole: c.options.defaultMembershipRole } : {}),
          ...(c.options.verifiedDomains ? { verifiedDomains: c.options.verifiedDomains } : {}),
          now,
        },
        before,
      );
      const after = events.reduce(evolve, before);
      const owner = { stream: groupStream(id), id };
      const { claims } = groupReservations(before, after);
      const r = await new UnitOfWork(this.store, () => this.clock.now()).commit({
        writes: [{ streamId: groupStream(id), expectedRevision: 'no_stream', events }],
        claims: claims.map((k): Claim => ({ ...k, scopeKey: 'instance', owner })),
        metadata: eventMetadata(c.ctx, 'instance', now),
      });
      return {
        id,
        fullPath: after.fullPath,
        ...(after.parentId !== undefined ? { parentId: after.parentId } : {}),
        topLevelId: after.topLevelId,
        defaultMembershipLevel: ACCESS_LEVELS[after.defaultMembershipRole],
        verifiedDomains: after.verifiedDomains,
        position: r.position,
      };
    });
  }
}
