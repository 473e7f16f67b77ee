import { Injectable } from '@nestjs/common';
import type { AuditNames } from '@app/audit';
import type { TokensHandle } from '@app/auth';
import { ProjectionRunner } from '@app/projections';
import type { GroupsHandle } from '@app/read-models';
import type { IdentifierHistoryHandle } from '@app/support';

/** The names the audit reports show, from the groups, tokens and identifier-history read models. */
@Injectable()
export class ReadModelAuditNames implements AuditNames {
  constructor(private readonly runner: ProjectionRunner) {}

  scopeName(scope: string): string {
    const m = /^group:(.+)$/.exec(scope);
    return m ? `group ${this.runner.handle<GroupsHandle>('groups').byId(m[1])?.fullPath ?? m[1]}` : scope;
  }

  tokenName(id: string): string | undefined {
    return this.runner.handle<TokensHandle>('tokens').list('scim').find((t) => t.id === id)?.name ?? undefined;
  }

  holdersOf(value: string): string[] {
    const ids = new Set<string>();
    for (const span of this.runner.handle<IdentifierHistoryHandle>('identifier-history').find(value)) {
      ids.add(span.accountId);
      if (span.identityId) ids.add(span.identityId);
    }
    return [...ids];
  }

  accountOf(id: string): string | null {
    return this.runner.handle<IdentifierHistoryHandle>('identifier-history').find(id).find((s) => s.kind === 'scimId' || s.kind === 'accountId')?.accountId ?? null;
  }
}
