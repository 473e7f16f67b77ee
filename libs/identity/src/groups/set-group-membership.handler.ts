import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountWriter } from '../account-writer';
import { runCommand } from '../command-runner';
import { ResourceNotFound } from '../errors';
import { SetGroupMembershipCommand } from './set-group-membership.command';

/** The administrator-granted membership lives on the account: load it, let the account decider decide, append. */
@CommandHandler(SetGroupMembershipCommand)
export class SetGroupMembershipHandler implements ICommandHandler<SetGroupMembershipCommand> {
  constructor(private readonly writer: AccountWriter) {}

  async execute(c: SetGroupMembershipCommand): Promise<void> {
    await runCommand(undefined, async () => {
      const loaded = await this.writer.repository.load(c.accountId);
      if (!loaded.state.exists) throw new ResourceNotFound('Account', c.accountId);
      await this.writer.execute({
        accountId: c.accountId,
        loaded,
        command: {
          type: 'SetMembership',
          now: this.writer.now(),
          groupId: c.group.id,
          topLevelId: c.group.topLevelId,
          source: 'admin',
          level: c.level,
          cause: 'set by an administrator',
        },
        ctx: c.ctx,
        scope: 'instance',
      });
    });
  }
}
