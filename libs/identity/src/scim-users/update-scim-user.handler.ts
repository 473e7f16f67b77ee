import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountWriter } from '../account-writer';
import { runCommand } from '../command-runner';
import { ResourceNotFound } from '../errors';
import { accountStream } from '../events';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import type { ScimUserWriteResult } from './scim-user.result';
import { loadScopeContext } from './scope-context';
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
    return runCommand({ streamId: accountStream(accountId), ifMatch: command.ifMatch }, async ({ checkPrecondition }) => {
      const loaded = await this.writer.repository.load(accountId);
      const identity = loaded.state.identities[command.identityId];
      if (!identity || identity.deleted || identity.unlinked || identity.scope !== command.scope) {
        throw new ResourceNotFound('User', command.identityId);
      }
      checkPrecondition(loaded.revision);
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
          ...(await loadScopeContext(this.directory, command.scope, loaded.state)),
        },
        ctx: command.ctx,
        scope: command.scope,
      });
      return { account: result.state, identity: result.state.identities[identity.id], revision: result.revision, revived: false };
    });
  }
}
