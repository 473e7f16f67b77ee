import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, timeOrderedId } from '@app/event-store';
import { ACCESS_LEVELS } from '../access-level';
import { eventMetadata } from '../event-envelope';
import { InvalidCommand, ResourceNotFound } from '../errors';
import { type GroupEvent, groupStream } from '../group.events';
import { CLOCK, type Clock, type GroupInfo, IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { type Claim, UnitOfWork } from '../unit-of-work';
import { CreateGroupCommand } from './create-group.command';

const PATH = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/**
 * Creates a group (GitLab namespace). Full paths are unique instance-wide and a verified
 * domain belongs to one top-level group; both are reservations, so two racing requests
 * cannot both win.
 */
@CommandHandler(CreateGroupCommand)
export class CreateGroupHandler implements ICommandHandler<CreateGroupCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(c: CreateGroupCommand): Promise<GroupInfo & { position: bigint }> {
    if (!PATH.test(c.path) || c.path.endsWith('.git') || c.path.endsWith('.atom')) {
      throw new InvalidCommand('path may contain letters, digits, _, - and . and must not end in .git or .atom', 'path');
    }
    if (typeof c.name !== 'string' || c.name.trim() === '' || c.name.length > 255) {
      throw new InvalidCommand('name is required (at most 255 characters)', 'name');
    }
    let parent: GroupInfo | undefined;
    if (c.options.parentPath !== undefined) {
      parent = await this.directory.groupByPath(c.options.parentPath);
      if (!parent) throw new ResourceNotFound('Group', c.options.parentPath);
    }
    const domains = [...new Set((c.options.verifiedDomains ?? []).map((d) => d.toLowerCase()))];
    for (const d of domains) if (!DOMAIN.test(d)) throw new InvalidCommand('verifiedDomains holds an invalid domain', 'verifiedDomains');
    if (parent && domains.length > 0) {
      throw new InvalidCommand('only a top-level group can verify domains', 'verifiedDomains');
    }
    const role = c.options.defaultMembershipRole ?? 'guest';
    const id = timeOrderedId();
    const fullPath = parent ? `${parent.fullPath}/${c.path}` : c.path;
    const owner = { stream: groupStream(id), id };
    const claims: Claim[] = [
      { kind: 'groupPath', scopeKey: 'instance', value: fullPath, owner },
      ...domains.map((value): Claim => ({ kind: 'domain', scopeKey: 'instance', value, owner })),
    ];
    const event: GroupEvent = {
      type: 'GroupCreated',
      data: {
        groupId: id,
        path: c.path,
        name: c.name,
        fullPath,
        ...(parent ? { parentId: parent.id } : {}),
        topLevelId: parent ? parent.topLevelId : id,
        defaultMembershipRole: role,
        verifiedDomains: domains,
      },
    };
    const now = this.clock.now().toISOString();
    const r = await new UnitOfWork(this.store, () => this.clock.now()).commit({
      writes: [{ streamId: groupStream(id), expectedRevision: 'no_stream', events: [event] }],
      claims,
      metadata: eventMetadata(c.ctx, 'instance', now),
    });
    return {
      id,
      fullPath,
      ...(parent ? { parentId: parent.id } : {}),
      topLevelId: parent ? parent.topLevelId : id,
      defaultMembershipLevel: ACCESS_LEVELS[role],
      verifiedDomains: domains,
      position: r.position,
    };
  }
}
