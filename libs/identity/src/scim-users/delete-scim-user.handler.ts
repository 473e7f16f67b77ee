import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountWriter } from '../account-writer';
import { runCommand } from '../command-runner';
import { ResourceNotFound } from '../errors';
import { accountStream } from '../events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { DeleteScimUserCommand } from './delete-scim-user.command';
import { loadScopeContext } from './scope-context';

@CommandHandler(DeleteScimUserCommand)
export class DeleteScimUserHandler implements ICommandHandler<DeleteScimUserCommand> {
  constructor(
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(command: DeleteScimUserCommand): Promise<void> {
    const found = await this.directory.findIdentity(command.scope, command.identityId);
    if (!found) throw new ResourceNotFound('User', command.identityId);
    const { accountId } = found;
    await runCommand({ streamId: accountStream(accountId), ifMatch: command.ifMatch }, async ({ checkPrecondition }) => {
      const loaded = await this.writer.repository.load(accountId);
      const identity = loaded.state.identities[command.identityId];
      if (!identity || identity.deleted || identity.unlinked || identity.scope !== command.scope) {
        throw new ResourceNotFound('User', command.identityId);
      }
      checkPrecondition(loaded.revision);
      const { deprovision, sync } = await loadScopeContext(this.directory, command.scope, loaded.state);
      await this.writer.execute({
        accountId,
        loaded,
        command: { type: 'DeleteIdentity', now: this.writer.now(), identityId: identity.id, deprovision, sync },
        ctx: command.ctx,
        scope: command.scope,
      });
    });
  }
}
