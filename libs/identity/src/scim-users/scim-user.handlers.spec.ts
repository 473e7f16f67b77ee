import { describe, expect, it } from '@jest/globals';
import { openSqliteDatabase, SqliteEventStore } from '@app/event-store/adapters';
import { ACCESS_LEVELS } from '../access-level';
import { AccountWriter } from '../account-writer';
import { PreconditionFailed, UniquenessViolation } from '../errors';
import type { CommandContext } from '../event-envelope';
import { accountStream } from '../events';
import type { GroupInfo, IdentityDirectory } from '../ports';
import { groupScope, INSTANCE_SCOPE, type ScopeId } from '../scope';
import { CreateScimUserCommand } from './create-scim-user.command';
import { CreateScimUserHandler } from './create-scim-user.handler';
import { DeleteScimUserCommand } from './delete-scim-user.command';
import { DeleteScimUserHandler } from './delete-scim-user.handler';
import { UpdateScimUserCommand } from './update-scim-user.command';
import { UpdateScimUserHandler } from './update-scim-user.handler';

const ctx: CommandContext = { correlationId: 'c', commandId: 'cmd', actor: { kind: 'scim_token', id: 't' } };
const GROUP_ID = '7f0d2c1e-5a4b-4c3d-8e2f-1a2b3c4d5e6f';

/**
 * The SCIM user handlers over a real (in-memory SQLite) store; the directory is a stand-in that
 * knows the identities these tests created and one group.
 */
function setup(group: Partial<GroupInfo> = {}) {
  const store = new SqliteEventStore(openSqliteDatabase({ filename: ':memory:' }));
  const writer = new AccountWriter(store, { now: () => new Date('2026-05-01T12:00:00Z') });
  const identities = new Map<string, { scope: ScopeId; accountId: string }>();
  const groupInfo: GroupInfo = { id: GROUP_ID, fullPath: 'acme', topLevelId: GROUP_ID, defaultMembershipLevel: ACCESS_LEVELS.developer, verifiedDomains: [], ...group };
  let groupReads = 0;
  const directory = {
    findIdentity: async (scope: ScopeId, id: string) => {
      const found = identities.get(id);
      return found && found.scope === scope ? { accountId: found.accountId } : undefined;
    },
    group: async (id: string) => (groupReads++, id === GROUP_ID ? groupInfo : undefined),
    hierarchy: async (id: string) => [id],
    soleOwnerGroups: async () => [],
    scimGroupInfo: async () => ({}),
    links: async () => [],
  } as unknown as IdentityDirectory;
  const create = new CreateScimUserHandler(writer, directory);
  const update = new UpdateScimUserHandler(writer, directory);
  const remove = new DeleteScimUserHandler(writer, directory);
  return {
    store,
    groupReads: () => groupReads,
    async post(scope: ScopeId, userName: string, extra: Record<string, unknown> = {}) {
      const r = await create.execute(new CreateScimUserCommand(scope, { userName, ...extra }, true, ctx));
      identities.set(r.identity.id, { scope, accountId: r.account.id });
      return r;
    },
    update: (scope: ScopeId, id: string, attributes: Record<string, unknown>, ifMatch?: bigint) =>
      update.execute(new UpdateScimUserCommand(scope, id, () => ({ attributes }), ctx, ifMatch)),
    remove: (scope: ScopeId, id: string, ifMatch?: bigint) => remove.execute(new DeleteScimUserCommand(scope, id, ctx, ifMatch)),
    revision: async (accountId: string) => (await store.readStream(accountStream(accountId))).at(-1)!.revision,
  };
}

describe('SCIM user handlers', () => {
  it('a re-POST of a deleted user brings it back with the same id, through the policy the facts were read for', async () => {
    const s = setup();
    const first = await s.post(INSTANCE_SCOPE, 'lee@corp.example', { externalId: 'ext-lee' });
    await s.remove(INSTANCE_SCOPE, first.identity.id);
    const again = await s.post(INSTANCE_SCOPE, 'lee@corp.example', { externalId: 'EXT-LEE' });
    expect(again).toMatchObject({ revived: true, identity: { id: first.identity.id, active: true, deleted: false } });
    expect(again.account.id).toBe(first.account.id);
  });

  it('refuses a PUT whose If-Match is not current with 412, writing nothing', async () => {
    const s = setup();
    const { identity, account, revision } = await s.post(INSTANCE_SCOPE, 'kim');
    await s.update(INSTANCE_SCOPE, identity.id, { userName: 'kim', displayName: 'Kim' }, revision);
    await expect(s.update(INSTANCE_SCOPE, identity.id, { userName: 'kim2' }, revision)).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(s.remove(INSTANCE_SCOPE, identity.id, revision)).rejects.toBeInstanceOf(PreconditionFailed);
    expect(await s.revision(account.id)).toBe(revision + 1n);
  });

  it('group scope: links an account by email only for a verified domain, reading the group once', async () => {
    const scope = groupScope(GROUP_ID);
    const unverified = setup({ verifiedDomains: ['other.example'] });
    await unverified.post(INSTANCE_SCOPE, 'lee', { emails: [{ value: 'lee@corp.example', primary: true }] });
    const refused: unknown = await unverified.post(scope, 'lee.g', { emails: [{ value: 'lee@corp.example', primary: true }] }).catch((e) => e);
    expect(refused).toBeInstanceOf(UniquenessViolation);
    expect((refused as UniquenessViolation).kind).toBe('email');

    const verified = setup({ verifiedDomains: ['Corp.Example'] });
    const owner = await verified.post(INSTANCE_SCOPE, 'lee', { emails: [{ value: 'lee@corp.example', primary: true }] });
    const reads = verified.groupReads();
    const linked = await verified.post(scope, 'lee.g', { emails: [{ value: 'lee@corp.example', primary: true }] });
    expect(linked.account.id).toBe(owner.account.id);
    expect(Object.values(linked.account.memberships[GROUP_ID] ?? {})).toEqual([ACCESS_LEVELS.developer]);
    expect(verified.groupReads() - reads).toBe(1);
  });
});
