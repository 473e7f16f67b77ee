import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, StreamNotFoundError, timeOrderedId } from '@app/event-store';
import { AccountWriter } from '../account-writer';
import { type CommandContext, eventMetadata } from '../event-envelope';
import { InvalidCommand, ResourceNotFound } from '../errors';
import { type SamlGroupLinkEvent, samlGroupLinkStream } from '../group.events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { retryOnConflict, UnitOfWork } from '../unit-of-work';
import { AddSamlGroupLinkCommand, RemoveSamlGroupLinkCommand } from './saml-group-link.commands';

/**
 * Adding or removing a link changes what every member of the SCIM groups with that name is
 * granted: those accounts (and only those) are resynced, each with its own append.
 */
async function resyncByName(
  name: string,
  directory: IdentityDirectory,
  writer: AccountWriter,
  ctx: CommandContext,
  cause: string,
): Promise<number> {
  const accountIds = await directory.accountsInScimGroupsNamed(name);
  const links = await directory.links();
  for (const accountId of accountIds) {
    await retryOnConflict(async () => {
      const loaded = await writer.repository.load(accountId);
      const groupIds = new Set<string>();
      for (const identity of Object.values(loaded.state.identities)) for (const g of identity.scimGroups) groupIds.add(g);
      const scimGroups = await directory.scimGroupInfo([...groupIds]);
      const command = { type: 'ResyncMemberships', now: writer.now(), sync: { scimGroups, links }, cause } as const;
      await writer.execute({ accountId, loaded, command, ctx, scope: 'instance' });
    });
  }
  return accountIds.length;
}

@CommandHandler(AddSamlGroupLinkCommand)
export class AddSamlGroupLinkHandler implements ICommandHandler<AddSamlGroupLinkCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(c: AddSamlGroupLinkCommand) {
    const name = c.samlGroupName.trim();
    if (name === '' || name.length > 255) throw new InvalidCommand('samlGroupName is required (at most 255 characters)', 'samlGroupName');
    const group = await this.directory.groupByPath(c.groupPath);
    if (!group) throw new ResourceNotFound('Group', c.groupPath);
    const linkId = timeOrderedId();
    const event: SamlGroupLinkEvent = {
      type: 'SamlGroupLinkAdded',
      data: { linkId, samlGroupName: name, groupId: group.id, accessLevel: c.accessLevel },
    };
    const r = await new UnitOfWork(this.store, () => new Date()).commit({
      writes: [{ streamId: samlGroupLinkStream(linkId), expectedRevision: 'no_stream', events: [event] }],
      metadata: eventMetadata(c.ctx, 'instance', this.writer.now()),
    });
    const resynced = await resyncByName(name, this.directory, this.writer, c.ctx, `saml group link ${linkId} added`);
    return { id: linkId, position: r.position, resynced };
  }
}

@CommandHandler(RemoveSamlGroupLinkCommand)
export class RemoveSamlGroupLinkHandler implements ICommandHandler<RemoveSamlGroupLinkCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(c: RemoveSamlGroupLinkCommand) {
    let events;
    try {
      events = await this.store.readStream(samlGroupLinkStream(c.linkId));
    } catch (err) {
      if (err instanceof StreamNotFoundError) throw new ResourceNotFound('SAML group link', c.linkId);
      throw err;
    }
    if (events.some((e) => e.type === 'SamlGroupLinkRemoved')) throw new ResourceNotFound('SAML group link', c.linkId);
    const added = events[0].data as { samlGroupName: string; groupId: string };
    const event: SamlGroupLinkEvent = {
      type: 'SamlGroupLinkRemoved',
      data: { linkId: c.linkId, samlGroupName: added.samlGroupName, groupId: added.groupId },
    };
    await new UnitOfWork(this.store, () => new Date()).commit({
      writes: [{ streamId: samlGroupLinkStream(c.linkId), expectedRevision: events[events.length - 1].revision, events: [event] }],
      metadata: eventMetadata(c.ctx, 'instance', this.writer.now()),
    });
    return { resynced: await resyncByName(added.samlGroupName, this.directory, this.writer, c.ctx, `saml group link ${c.linkId} removed`) };
  }
}
