import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountWriter } from '../account-writer';
import { PreconditionFailed, ResourceNotFound } from '../errors';
import { accountStream } from '../events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { retryOnConflict } from '../unit-of-work';
import type { ScimUserWriteResult } from './scim-user.result';
import { deprovisionContext, reprovisionContext, syncContext } from './scope-context';
import { UpdateScimUserCommand } from './update-scim-user.command';

@CommandHandler(UpdateScimUserCommand)
export class UpdateScimUserHandler implements ICommandHandler<UpdateScimUserCommand> {
  constructor(
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute(command: UpdateScimUserCommand): Promise<ScimUserWriteResult> {
    const found = await this.directory.findIdentity(command.scope, command.identityId);
    if (!found) throw new ResourceNotFound('User', command.identityId);
    const { accountId } = found;
    return retryOnConflict(
      async () => {
        const loaded = await this.writer.repository.load(accountId);
        const identity = loaded.state.identities[command.identityId];
        if (!identity || identity.deleted || identity.unlinked || identity.scope !== command.scope) {
          throw new ResourceNotFound('User', command.identityId);
        }
        const change = command.change({ attributes: identity.attributes, active: identity.active });
        const result = await this.writer.execute({
          accountId,
          loaded,
          command: {
            type: 'UpdateIdentity',
            now: this.writer.now(),
            identityId: identity.id,
            attributes: change.attributes,
            ...(change.active !== undefined ? { active: change.active } : {}),
            deprovision: await deprovisionContext(this.directory, command.scope, accountId),
            reprovision: await reprovisionContext(this.directory, command.scope),
            sync: await syncContext(this.directory, loaded.state),
          },
          ctx: command.ctx,
          scope: command.scope,
          ifMatch: command.ifMatch,
        });
        return { account: result.state, identity: result.state.identities[identity.id], revision: result.revision, revived: false };
      },
      (conflict) => {
        if (command.ifMatch !== undefined && conflict.streamId === accountStream(accountId)) throw new PreconditionFailed();
      },
    );
  }
}
