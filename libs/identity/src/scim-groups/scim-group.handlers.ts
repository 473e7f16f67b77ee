import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  CreateScimGroupCommand,
  DeleteScimGroupCommand,
  type ScimGroupWriteResult,
  UpdateScimGroupCommand,
} from './scim-group.commands';
import { ScimGroupWriter } from './scim-group-writer';

@CommandHandler(CreateScimGroupCommand)
export class CreateScimGroupHandler implements ICommandHandler<CreateScimGroupCommand> {
  constructor(private readonly writer: ScimGroupWriter) {}
  execute(c: CreateScimGroupCommand): Promise<ScimGroupWriteResult> {
    return this.writer.create(c.scope, c.displayName, c.externalId, c.members, c.ctx);
  }
}

@CommandHandler(UpdateScimGroupCommand)
export class UpdateScimGroupHandler implements ICommandHandler<UpdateScimGroupCommand> {
  constructor(private readonly writer: ScimGroupWriter) {}
  execute(c: UpdateScimGroupCommand): Promise<ScimGroupWriteResult> {
    return this.writer.update(c.scope, c.groupId, c.change, c.ctx, c.ifMatch);
  }
}

@CommandHandler(DeleteScimGroupCommand)
export class DeleteScimGroupHandler implements ICommandHandler<DeleteScimGroupCommand> {
  constructor(private readonly writer: ScimGroupWriter) {}
  execute(c: DeleteScimGroupCommand): Promise<void> {
    return this.writer.delete(c.scope, c.groupId, c.ctx, c.ifMatch);
  }
}
