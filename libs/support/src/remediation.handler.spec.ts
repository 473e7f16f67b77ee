import { AccountWriter, accountStream, ResourceNotFound } from '@app/identity';
import { RemediateCommand } from './remediation.command';
import { RemediateHandler } from './remediation.handler';
import { contextOf, NOW, SupportTestKit } from './testing/support-test-kit';

const NO_GROUPS = { hierarchyGroupIds: [], soleOwnerGroupIds: [] };

describe('RemediateHandler (real in-memory SQLite store)', () => {
  let kit: SupportTestKit;
  let handler: RemediateHandler;
  beforeEach(async () => {
    kit = await SupportTestKit.start();
    handler = new RemediateHandler(kit.writer, kit.runner, kit.ryw, kit.directory);
  });
  afterEach(() => kit.stop());

  const remediate = (request: ConstructorParameters<typeof RemediateCommand>[0], dryRun = false) =>
    handler.execute(new RemediateCommand(request, dryRun, contextOf('support', 'ticket 4711')));

  it('a dry run answers the events it would write and writes nothing', async () => {
    const { accountId, identityId } = await kit.provision({ userName: 'jane@corp.test', externalId: 'Jane@corp.test' });
    const head = await kit.head();
    const r = await remediate({ action: 'change-external-id', scimId: identityId, externalId: '00u-okta' }, true);
    expect(r).toEqual({
      dryRun: true,
      accountId,
      events: [{ type: 'ExternIdChanged', data: { accountId, identityId, scope: 'application', from: 'Jane@corp.test', to: '00u-okta', samlNameIdFrom: 'Jane@corp.test', samlNameIdTo: '00u-okta' }, occurredAt: NOW.toISOString() }],
    });
    expect(await kit.head()).toBe(head);
  });

  it('writes the decided events to the account stream with the reason and the support actor', async () => {
    const { accountId, identityId } = await kit.provision({ userName: 'jane@corp.test', externalId: 'Jane@corp.test' });
    const r = await remediate({ action: 'change-external-id', scimId: identityId, externalId: '00u-okta' });
    expect(r).toEqual({ dryRun: false, accountId, revision: 1n, events: [expect.objectContaining({ type: 'ExternIdChanged' })] });
    const stream = await kit.streamOf(accountStream(accountId));
    expect(stream.map((e) => e.type)).toEqual(['UserProvisioned', 'ExternIdChanged']);
    expect(stream[1].metadata).toMatchObject({ reason: 'ticket 4711', actor: { kind: 'support' }, occurredAt: NOW.toISOString() });
  });

  it('reactivates a deleted identity with the same id', async () => {
    const { accountId, identityId } = await kit.provision({ userName: 'jane@corp.test' });
    await kit.write(accountId, { type: 'DeleteIdentity', identityId, deprovision: { hierarchyGroupIds: [], soleOwnerGroupIds: [] } });
    const r = await remediate({ action: 'reactivate', scimId: identityId });
    expect(r.events.map((e) => e.type)).toContain('IdentityReactivated');
    expect((await kit.writer.repository.load(accountId)).state.identities[identityId]).toMatchObject({ active: true, deleted: false });
  });

  it('links a new identity into a group scope by its path, and refuses an unknown or nested group', async () => {
    const { accountId } = await kit.provision({ userName: 'jane@corp.test' });
    kit.groups.set('acme', { id: 'g1', fullPath: 'acme', topLevelId: 'g1', defaultMembershipLevel: 10, verifiedDomains: [] });
    kit.groups.set('acme/dev', { id: 'g2', fullPath: 'acme/dev', parentId: 'g1', topLevelId: 'g1', defaultMembershipLevel: 10, verifiedDomains: [] });
    await expect(remediate({ action: 'link', accountId, userName: 'jane@acme.test', groupPath: 'nope' })).rejects.toThrow(new ResourceNotFound('Group', 'nope'));
    await expect(remediate({ action: 'link', accountId, userName: 'jane@acme.test', groupPath: 'acme/dev' })).rejects.toThrow(new ResourceNotFound('Group', 'acme/dev'));
    const r = await remediate({ action: 'link', accountId, userName: 'jane@acme.test', groupPath: 'acme' });
    expect(r.events[0]).toMatchObject({ type: 'IdentityLinked', data: { scope: 'group:g1', userName: 'jane@acme.test', reason: 'remediation' } });
    expect(r.revision).toBe(BigInt(r.events.length));
  });

  it('an unknown identity or account is a 404 and writes nothing', async () => {
    await kit.provision({ userName: 'jane@corp.test' });
    const head = await kit.head();
    await expect(remediate({ action: 'unlink', scimId: '0190a000-0000-7000-8000-00000000dead' })).rejects.toThrow(ResourceNotFound);
    await expect(remediate({ action: 'link', accountId: '0190a000-0000-7000-8000-00000000beef', userName: 'x@corp.test' })).rejects.toThrow(
      new ResourceNotFound('Account', '0190a000-0000-7000-8000-00000000beef'),
    );
    expect(await kit.head()).toBe(head);
  });

  it('decides again on the fresh state when another writer commits between its load and its append', async () => {
    const { accountId, identityId } = await kit.provision({ userName: 'jane@corp.test', externalId: 'Jane@corp.test' });
    // Another request's write lands just before the handler's first append (its expected revision is then stale).
    let interfere: (() => Promise<void>) | undefined = async () => {
      const other = new AccountWriter(kit.store, kit.clock);
      const loaded = await other.repository.load(accountId);
      const attributes = { ...loaded.state.identities[identityId].attributes, title: 'CTO' };
      await other.execute({ accountId, loaded, command: { type: 'UpdateIdentity', now: other.now(), identityId, attributes, deprovision: NO_GROUPS, reprovision: {} }, ctx: contextOf('scim_token'), scope: 'application' });
    };
    const appends: string[] = [];
    const racing = new Proxy(kit.store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if ((key !== 'append' && key !== 'appendMulti') || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          appends.push(String(key));
          const before = interfere;
          interfere = undefined;
          await before?.();
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
    handler = new RemediateHandler(new AccountWriter(racing, kit.clock), kit.runner, kit.ryw, kit.directory);
    const r = await remediate({ action: 'change-external-id', scimId: identityId, externalId: '00u-okta' });
    expect(appends.length).toBe(2);
    expect(r.revision).toBe(2n);
    const stream = await kit.streamOf(accountStream(accountId));
    expect(stream.map((e) => e.type)).toEqual(['UserProvisioned', 'UserProfileUpdated', 'ExternIdChanged']);
    expect((await kit.writer.repository.load(accountId)).state.identities[identityId].attributes).toMatchObject({ title: 'CTO', externalId: '00u-okta' });
  });
});
