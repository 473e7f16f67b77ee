import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { timeOrderedId } from '@app/event-store';
import { runCommand } from '../command-runner';
import { scimGroupStream } from '../scim-group.events';
import {
  CreateScimGroupCommand,
  DeleteScimGroupCommand,
  type ScimGroupWriteResult,
  UpdateScimGroupCommand,
} from './scim-group.commands';
import { decide, initialState, requireLiveScimGroup } from './scim-group.decider';
import { ScimGroupWriter } from './scim-group-writer';

@CommandHandler(CreateScimGroupCommand)
export class CreateScimGroupHandler implements ICommandHandler<CreateScimGroupCommand> {
  constructor(private readonly writer: ScimGroupWriter) {}

  execute(c: CreateScimGroupCommand): Promise<ScimGroupWriteResult> {
    const groupId = timeOrderedId();
    const fresh = { state: initialState(), revision: -1n };
    return runCommand(undefined, () => {
      const now = this.writer.now();
      const events = decide({ type: 'CreateScimGroup', groupId, scope: c.scope, displayName: c.displayName, externalId: c.externalId ?? null, now }, fresh.state);
      const memberOps = c.members.length ? [{ op: 'add' as const, ids: c.members }] : [];
      return this.writer.write(c.scope, groupId, fresh, events, memberOps, c.ctx, now);
    });
  }
}

/** PUT or PATCH: the change is planned against the state this attempt loaded. */
@CommandHandler(UpdateScimGroupCommand)
export class UpdateScimGroupHandler implements ICommandHandler<UpdateScimGroupCommand> {
  constructor(private readonly writer: ScimGroupWriter) {}

  execute(c: UpdateScimGroupCommand): Promise<ScimGroupWriteResult> {
    return runCommand({ streamId: scimGroupStream(c.groupId), ifMatch: c.ifMatch }, async (run) => {
      const loaded = await this.writer.load(c.groupId);
      // Not found before a stale If-Match, and both before the change is planned (a PATCH of a group that is gone is a 404).
      requireLiveScimGroup(loaded.state, c.scope, c.groupId);
      run.checkPrecondition(loaded.revision);
      const change = c.change(loaded.state);
      const now = this.writer.now();
      const events = decide(
        {
          type: 'ChangeScimGroup',
          groupId: c.groupId,
          scope: c.scope,
          ...(change.displayName !== undefined ? { displayName: change.displayName } : {}),
          ...(change.externalId !== undefined ? { externalId: change.externalId } : {}),
          now,
        },
        loaded.state,
      );
      return this.writer.write(c.scope, c.groupId, loaded, events, change.memberOps, c.ctx, now);
    });
  }
}

@CommandHandler(DeleteScimGroupCommand)
export class DeleteScimGroupHandler implements ICommandHandler<DeleteScimGroupCommand> {
  constructor(private readonly writer: ScimGroupWriter) {}

  async execute(c: DeleteScimGroupCommand): Promise<void> {
    await runCommand({ streamId: scimGroupStream(c.groupId), ifMatch: c.ifMatch }, async (run) => {
      const loaded = await this.writer.load(c.groupId);
      requireLiveScimGroup(loaded.state, c.scope, c.groupId);
      run.checkPrecondition(loaded.revision);
      const now = this.writer.now();
      const events = decide({ type: 'DeleteScimGroup', groupId: c.groupId, scope: c.scope, now }, loaded.state);
      await this.writer.write(c.scope, c.groupId, loaded, events, [{ op: 'removeAll' }], c.ctx, now, true);
    });
  }
}
