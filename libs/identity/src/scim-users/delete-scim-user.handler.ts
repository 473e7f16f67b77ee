import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountWriter } from '../account-writer';
import { PreconditionFailed, ResourceNotFound } from '../errors';
import { accountStream } from '../events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { retryOnConflict } from '../unit-of-work';
import { DeleteScimUserCommand } from './delete-scim-user.command';
import { deprovisionContext, syncContext } from './scope-context';

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
    await retryOnConflict(
      async () => {
        const loaded = await this.writer.repository.load(accountId);
        const identity = loaded.state.identities[command.identityId];
        if (!identity || identity.deleted || identity.unlinked || identity.scope !== command.scope) {
          throw new ResourceNotFound('User', command.identityId);
        }
        await this.writer.execute({
          accountId,
          loaded,
          command: {
            type: 'DeleteIdentity',
            now: this.writer.now(),
            identityId: identity.id,
            deprovision: await deprovisionContext(this.directory, command.scope, accountId),
            sync: await syncContext(this.directory, loaded.state),
          },
          ctx: command.ctx,
          scope: command.scope,
          ifMatch: command.ifMatch,
        });
      },
      (conflict) => {
        if (command.ifMatch !== undefined && conflict.streamId === accountStream(accountId)) throw new PreconditionFailed();
      },
    );
  }
}
