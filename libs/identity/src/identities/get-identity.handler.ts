import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AccountWriter } from '../account-writer';
import { ResourceNotFound } from '../errors';
import { IDENTITY_DIRECTORY, type IdentityDirectory } from '../ports';
import { scopeGroupId } from '../scope';
import { GetIdentityQuery, type IdentityWithAccount } from './get-identity.query';

/**
 * The read model only says which account holds the identity; the identity and the account are
 * folded from the account's stream, so the answer is exact even while projections lag.
 */
@QueryHandler(GetIdentityQuery)
export class GetIdentityHandler implements IQueryHandler<GetIdentityQuery, IdentityWithAccount> {
  constructor(
    private readonly writer: AccountWriter,
    @Inject(IDENTITY_DIRECTORY) private readonly directory: IdentityDirectory,
  ) {}

  async execute({ scimId }: GetIdentityQuery): Promise<IdentityWithAccount> {
    const accountId = (await this.directory.accountsOfIdentities([scimId])).get(scimId);
    if (accountId === undefined) throw new ResourceNotFound('Identity', scimId);
    const { state } = await this.writer.repository.load(accountId);
    const identity = state.identities[scimId];
    if (!identity) throw new ResourceNotFound('Identity', scimId);
    const groupId = scopeGroupId(identity.scope);
    const group = groupId !== undefined ? await this.directory.group(groupId) : undefined;
    return { identity, account: state, ...(group ? { group } : {}) };
  }
}
