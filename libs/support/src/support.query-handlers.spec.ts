import { InvalidCommand, ResourceNotFound } from '@app/identity';
import { SUPPORT_READS_STREAM } from './support-read.recorder';
import { AccountDiffQuery, AccountStateAtQuery, AccountTimelineQuery, DiagnoseNameIdQuery, SearchIdentifiersQuery } from './support.queries';
import { AccountDiffHandler, AccountStateAtHandler, AccountTimelineHandler, DiagnoseNameIdHandler, SearchIdentifiersHandler } from './support.query-handlers';
import { contextOf, SupportTestKit } from './testing/support-test-kit';

const PATCH_NO_GROUPS = { deprovision: { hierarchyGroupIds: [], soleOwnerGroupIds: [] }, reprovision: {} };

describe('support read queries (real in-memory SQLite store and read models)', () => {
  let kit: SupportTestKit;
  let accountId: string;
  let identityId: string;
  const support = contextOf('support');
  const admin = contextOf('admin');

  beforeEach(async () => {
    kit = await SupportTestKit.start();
    ({ accountId, identityId } = await kit.provision({ userName: 'jane.doe@corp.test', externalId: 'Jane.Doe@corp.test' }));
    const attributes = (await kit.writer.repository.load(accountId)).state.identities[identityId].attributes;
    await kit.write(accountId, { type: 'UpdateIdentity', identityId, attributes: { ...attributes, externalId: '00u-okta' }, ...PATCH_NO_GROUPS });
    await kit.reject(identityId);
  });
  afterEach(() => kit.stop());

  const reads = async () => (await kit.streamOf(SUPPORT_READS_STREAM)).map((e) => e.data);

  it('search finds anyone by an identifier they held, and records a support token\'s read (not an admin\'s)', async () => {
    const search = new SearchIdentifiersHandler(kit.runner, kit.ryw, kit.reads);
    const found = await search.execute(new SearchIdentifiersQuery('JANE.DOE@corp.test', undefined, support));
    expect(found.accounts).toEqual([accountId]);
    expect(found.matches.map((m) => m.kind).sort()).toEqual(['email', 'externalId', 'nameId', 'userName']);
    await search.execute(new SearchIdentifiersQuery(identityId, undefined, admin));
    expect(await reads()).toEqual([{ what: 'search' }]);
    await expect(search.execute(new SearchIdentifiersQuery(undefined, undefined, support))).rejects.toThrow(new InvalidCommand('q is required', 'q'));
    await expect(search.execute(new SearchIdentifiersQuery('x', 'yesterday', support))).rejects.toThrow(new InvalidCommand('times must be RFC 3339', 'at'));
  });

  it('the timeline merges the account\'s events and the refusals about its identities, in log order, filtered', async () => {
    const timeline = new AccountTimelineHandler(kit.runner, kit.store, kit.reads);
    const t = await timeline.execute(new AccountTimelineQuery(accountId, {}, support));
    expect(t.entries.map((e) => [e.type, e.outcome])).toEqual([
      ['UserProvisioned', 'success'],
      ['ExternIdChanged', 'success'],
      ['ProvisioningRejected', 'rejected'],
    ]);
    expect(t.entries[1].summary).toBe('externalId: "Jane.Doe@corp.test" → "00u-okta" (SAML NameID "Jane.Doe@corp.test" → "00u-okta")');
    expect(t.entries[2].summary).toBe('PUT Users refused: 409 uniqueness');
    expect((await timeline.execute(new AccountTimelineQuery(accountId, { type: 'ExternIdChanged' }, admin))).entries.map((e) => e.type)).toEqual(['ExternIdChanged']);
    expect(await reads()).toEqual([{ what: 'timeline', subject: accountId }]);
    await expect(timeline.execute(new AccountTimelineQuery('0190a000-0000-7000-8000-00000000dead', {}, support))).rejects.toThrow(ResourceNotFound);
    expect(await reads()).toHaveLength(1);
  });

  it('state at a revision says which event set each field; the diff lists what changed between two points', async () => {
    const stateAt = new AccountStateAtHandler(kit.store, kit.reads);
    const rev0 = await stateAt.execute(new AccountStateAtQuery(accountId, { revision: '0' }, support));
    expect(rev0.revision).toBe('0');
    expect(rev0.state.identities[identityId]).toMatchObject({ externalId: 'Jane.Doe@corp.test' });
    const now = await stateAt.execute(new AccountStateAtQuery(accountId, {}, support));
    expect(now.setBy[`identities.${identityId}.externalId`]).toMatchObject({ type: 'ExternIdChanged', revision: '1' });
    await expect(stateAt.execute(new AccountStateAtQuery(accountId, { revision: '-1' }, support))).rejects.toThrow(new InvalidCommand('revision must be a non-negative integer', 'revision'));

    const diff = await new AccountDiffHandler(kit.store, kit.reads).execute(new AccountDiffQuery(accountId, { revision: '0' }, {}, support));
    expect(diff.from).toEqual({ revision: '0', at: expect.any(String) });
    expect(diff.to.revision).toBe('1');
    expect(diff.changes).toEqual(
      expect.arrayContaining([
        { path: `identities.${identityId}.samlNameId`, from: 'Jane.Doe@corp.test', to: '00u-okta' },
        { path: `identities.${identityId}.externalId`, from: 'Jane.Doe@corp.test', to: '00u-okta' },
      ]),
    );
    // The read is recorded before the point is parsed: a bad point was still a read of the stream.
    expect((await reads()).map((r) => r.what)).toEqual(['state', 'state', 'state', 'diff']);
  });

  it('diagnoses a NameID, also taken from a base64 SAML response', async () => {
    const diagnose = new DiagnoseNameIdHandler(kit.runner, kit.ryw, kit.writer, kit.reads);
    const xml = '<samlp:Response><saml:Assertion><saml:Subject><saml:NameID Format="x">jane.doe@corp.test</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>';
    const d = await diagnose.execute(new DiagnoseNameIdQuery(undefined, Buffer.from(xml).toString('base64'), support));
    expect(d.nameId).toBe('jane.doe@corp.test');
    expect(d.findings.map((f) => f.code)).toEqual(['no_match', 'matches_username_not_nameid', 'externalid_changed']);
    expect((await diagnose.execute(new DiagnoseNameIdQuery('00u-okta', undefined, admin))).findings.map((f) => f.code)).toEqual(['exact_match']);
    await expect(diagnose.execute(new DiagnoseNameIdQuery(undefined, undefined, support))).rejects.toThrow(InvalidCommand);
    expect(await reads()).toEqual([{ what: 'nameid-diagnosis' }]);
  });
});
