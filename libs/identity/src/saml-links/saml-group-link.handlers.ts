import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore, StreamNotFoundError, timeOrderedId } from '@app/event-store';
import { AccountWriter } from '../account-writer';
import { runCommand } from '../command-runner';
import { type CommandContext, eventMetadata } from '../event-envelope';
import { samlGroupLinkEvents, samlGroupLinkStream } from '../group.events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { AddSamlGroupLinkCommand, RemoveSamlGroupLinkCommand } from './saml-group-link.commands';
import { decide, evolve, initialState, type SamlGroupLinkState } from './saml-group-link.decider';

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
    await runCommand(undefined, async () => {
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
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(c: AddSamlGroupLinkCommand) {
    const linkId = timeOrderedId();
    const now = this.writer.now();
    const group = await this.directory.groupByPath(c.groupPath);
    const events = decide(
      { type: 'AddSamlGroupLink', linkId, samlGroupName: c.samlGroupName, groupPath: c.groupPath, ...(group ? { groupId: group.id } : {}), accessLevel: c.accessLevel, now },
      initialState(),
    );
    const r = await this.writer.uow.commit({
      writes: [{ streamId: samlGroupLinkStream(linkId), expectedRevision: 'no_stream', events }],
      metadata: eventMetadata(c.ctx, 'instance', now),
    });
    const added = events.reduce(evolve, initialState());
    const resynced = await resyncByName(added.samlGroupName, this.directory, this.writer, c.ctx, `saml group link ${linkId} added`);
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
    const removed = await runCommand(undefined, async () => {
      const loaded = await this.load(c.linkId);
      const now = this.writer.now();
      const events = decide({ type: 'RemoveSamlGroupLink', linkId: c.linkId, now }, loaded.state);
      await this.writer.uow.commit({
        writes: [{ streamId: samlGroupLinkStream(c.linkId), expectedRevision: loaded.revision, events }],
        metadata: eventMetadata(c.ctx, 'instance', now),
      });
      return loaded.state;
    });
    return { resynced: await resyncByName(removed.samlGroupName, this.directory, this.writer, c.ctx, `saml group link ${c.linkId} removed`) };
  }

  private async load(linkId: string): Promise<{ state: SamlGroupLinkState; revision: bigint }> {
    try {
      const events = await this.store.readStream(samlGroupLinkStream(linkId));
      return { state: samlGroupLinkEvents.decodeAll(events).reduce(evolve, initialState()), revision: events[events.length - 1].revision };
    } catch (err) {
      if (err instanceof StreamNotFoundError) return { state: initialState(), revision: -1n };
      throw err;
    }
  }
}
