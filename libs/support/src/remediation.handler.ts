import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { timeOrderedId } from '@app/event-store';
import { AccountWriter, decide, IDENTITY_DIRECTORY, type IdentityDirectory, ResourceNotFound, runCommand } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { IdentifierHistoryHandle } from './identifier-history.projection';
import { RemediateCommand, type RemediationRequest, type RemediationResult } from './remediation.command';
import { planRemediation, type RemediationFacts, remediationTarget } from './remediation.planner';

/** Load the facts, plan (pure), decide, and append unless it is a dry run; re-run on a conflict. */
@CommandHandler(RemediateCommand)
export class RemediateHandler implements ICommandHandler<RemediateCommand, RemediationResult> {
  constructor(
    private readonly writer: AccountWriter,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  execute({ request, dryRun, ctx }: RemediateCommand): Promise<RemediationResult> {
    return runCommand(undefined, async () => {
      const facts = await this.facts(request);
      const { command, scope } = planRemediation(request, facts);
      const loaded = { state: facts.state, revision: facts.revision };
      const events = decide(command, loaded.state);
      if (dryRun) return { dryRun: true, accountId: facts.accountId, events };
      const result = await this.writer.execute({ accountId: facts.accountId, loaded, command, ctx, scope });
      await this.ryw.settle();
      return { dryRun: false, accountId: facts.accountId, revision: result.revision, events: result.events };
    });
  }

  private async facts(request: RemediationRequest): Promise<RemediationFacts & { revision: bigint }> {
    const target = remediationTarget(request);
    let group: RemediationFacts['group'];
    if (request.action === 'link' && request.groupPath) {
      const g = await this.directory.groupByPath(request.groupPath);
      if (!g || g.parentId !== undefined) throw new ResourceNotFound('Group', request.groupPath);
      group = { id: g.id, defaultMembershipLevel: g.defaultMembershipLevel };
    }
    const accountId = 'accountId' in target ? target.accountId : this.accountOfIdentity(target.identityId);
    const { state, revision } = await this.writer.repository.load(accountId);
    return { accountId, state, revision, newIdentityId: timeOrderedId(), now: this.writer.now(), ...(group ? { group } : {}) };
  }

  private accountOfIdentity(identityId: string): string {
    const found = this.runner.handle<IdentifierHistoryHandle>('identifier-history').find(identityId).find((s) => s.kind === 'scimId');
    if (!found || !found.scope) throw new ResourceNotFound('Identity', identityId);
    return found.accountId;
  }
}
