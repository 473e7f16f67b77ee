import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { accessLevelName } from '../access-level';
import { eventMetadata } from '../event-envelope';
import { InvalidCommand, ResourceNotFound } from '../errors';
import { type GroupEvent, groupStream } from '../group.events';
import { CLOCK, type Clock, IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { type Claim, retryOnConflict, UnitOfWork } from '../unit-of-work';
import { ChangeGroupSettingsCommand } from './create-group.command';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Default membership role and verified domains of a group; a domain belongs to one top-level group. */
@CommandHandler(ChangeGroupSettingsCommand)
export class ChangeGroupSettingsHandler implements ICommandHandler<ChangeGroupSettingsCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(c: ChangeGroupSettingsCommand): Promise<{ position: bigint }> {
    const group = await this.directory.groupByPath(c.fullPath);
    if (!group) throw new ResourceNotFound('Group', c.fullPath);
    const domains = c.settings.verifiedDomains ? [...new Set(c.settings.verifiedDomains.map((d) => d.toLowerCase()))] : undefined;
    if (domains?.some((d) => !DOMAIN.test(d))) throw new InvalidCommand('verifiedDomains holds an invalid domain', 'verifiedDomains');
    if (domains && domains.length > 0 && group.parentId !== undefined) {
      throw new InvalidCommand('only a top-level group can verify domains', 'verifiedDomains');
    }
    return retryOnConflict(async () => {
      const events = await this.store.readStream(groupStream(group.id));
      const current = group;
      const data: Extract<GroupEvent, { type: 'GroupSettingsChanged' }>['data'] = { groupId: group.id };
      const fromRole = accessLevelName(current.defaultMembershipLevel);
      if (c.settings.defaultMembershipRole && c.settings.defaultMembershipRole !== fromRole) {
        data.defaultMembershipRole = { from: fromRole, to: c.settings.defaultMembershipRole };
      }
      const owner = { stream: groupStream(group.id), id: group.id };
      const claims: Claim[] = [];
      const releases: Claim[] = [];
      if (domains) {
        const before = new Set(current.verifiedDomains.map((d) => d.toLowerCase()));
        for (const d of domains) if (!before.has(d)) claims.push({ kind: 'domain', scopeKey: 'instance', value: d, owner });
        for (const d of before) if (!domains.includes(d)) releases.push({ kind: 'domain', scopeKey: 'instance', value: d, owner });
        if (claims.length || releases.length) data.verifiedDomains = { from: [...before], to: domains };
      }
      if (!data.defaultMembershipRole && !data.verifiedDomains) return { position: -1n };
      const r = await new UnitOfWork(this.store, () => this.clock.now()).commit({
        writes: [{ streamId: groupStream(group.id), expectedRevision: events[events.length - 1].revision, events: [{ type: 'GroupSettingsChanged', data }] }],
        claims,
        releases,
        metadata: eventMetadata(c.ctx, 'instance', this.clock.now().toISOString()),
      });
      return { position: r.position };
    });
  }
}
