import fc from 'fast-check';
import type { RecordedEvent } from '@app/event-store';
import { openSqliteDatabase, type SqliteDb } from '@app/event-store/adapters';
import { type AccountCommand, accountDecider, accountEvents, type AccountState, type ScopeId } from '@app/identity';
import { tableNamer } from '@app/projections';
import { scimUsersProjection, type ScimUsersHandle } from './scim-users.projection';

/**
 * The SCIM Users read model and the account decider fold the same events: whatever history the
 * decider can produce, every row is the identity the decider holds (and an unlinked identity
 * has no row). Histories come from random commands run through the decider itself, so they are
 * the ones a real log can contain.
 */

const ACC = 'acc-1';
const none = { hierarchyGroupIds: [], soleOwnerGroupIds: [] };

type Step =
  | { kind: 'link'; scope: ScopeId; userName: string; externalId?: string; active: boolean }
  | { kind: 'update'; pick: number; userName: string; externalId?: string; title?: string; active?: boolean; revive: boolean }
  | { kind: 'delete' | 'unlink'; pick: number };

const userName = fc.constantFrom('ada', 'Ada', 'bob', 'eve@example.com');
const externalId = fc.option(fc.constantFrom('x1', 'X1', 'x2'), { nil: undefined });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('link' as const), scope: fc.constantFrom<ScopeId>('application', 'group:top', 'group:other'), userName, externalId, active: fc.boolean() }),
  fc.record({
    kind: fc.constant('update' as const),
    pick: fc.nat(),
    userName,
    externalId,
    title: fc.option(fc.constantFrom('CTO', 'Dev'), { nil: undefined }),
    active: fc.option(fc.boolean(), { nil: undefined }),
    revive: fc.boolean(),
  }),
  fc.record({ kind: fc.constantFrom('delete' as const, 'unlink' as const), pick: fc.nat() }),
);

function command(s: Step, state: AccountState, now: string, n: number): AccountCommand | undefined {
  const attributes = (u: string, x?: string, title?: string) => ({ userName: u, ...(x ? { externalId: x } : {}), ...(title ? { title } : {}) });
  if (s.kind === 'link') {
    const common = { now, identityId: `id-${n}`, scope: s.scope, attributes: attributes(s.userName, s.externalId), active: s.active, reprovision: {} };
    return state.exists
      ? { type: 'LinkIdentity', reason: 'email_match', ...common }
      : { type: 'ProvisionUser', accountId: ACC, username: 'ada', ...common };
  }
  const ids = Object.keys(state.identities);
  if (ids.length === 0) return undefined;
  const identityId = ids[s.pick % ids.length];
  if (s.kind === 'update') {
    return {
      type: 'UpdateIdentity',
      now,
      identityId,
      attributes: attributes(s.userName, s.externalId, s.title),
      ...(s.active !== undefined ? { active: s.active } : {}),
      ...(s.revive ? { revive: true } : {}),
      deprovision: none,
      reprovision: {},
    };
  }
  return s.kind === 'delete' ? { type: 'DeleteIdentity', now, identityId, deprovision: none } : { type: 'UnlinkIdentity', now, identityId, deprovision: none };
}

describe('scim-users projection folds like the account decider', () => {
  let db: SqliteDb;
  let users: ScimUsersHandle;
  beforeEach(() => {
    db = openSqliteDatabase({ filename: ':memory:' });
    const t = tableNamer(scimUsersProjection, 1);
    scimUsersProjection.create(db, t);
    users = scimUsersProjection.open(db, t);
  });
  afterEach(() => db.close());

  it('every row is the identity the decider holds, after any history the decider can produce', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        db.exec('DELETE FROM scim_users__g1; DELETE FROM scim_user_blocks__g1;');
        let state = accountDecider.initialState();
        let revision = -1n;
        steps.forEach((s, n) => {
          const now = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
          const c = command(s, state, now, n);
          if (!c) return;
          let events;
          try {
            events = accountDecider.decide(c, state);
          } catch {
            return; // refused: nothing happened
          }
          for (const e of events) {
            state = accountDecider.evolve(state, e);
            revision++;
            const stored = accountEvents.encode(e, {}, `e${revision}`);
            users.apply({ ...stored, streamId: `account-${ACC}`, revision, position: revision + 1n, recordedAt: new Date(0) } as RecordedEvent);
          }
        });

        const rows = db.prepare(`SELECT * FROM ${users.table} ORDER BY id`).all() as Record<string, unknown>[];
        const expected = Object.values(state.identities)
          .filter((i) => !i.unlinked)
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        expect(
          rows.map((r) => ({
            id: r.id,
            scope: r.scope,
            userName: r.user_name,
            externalId: r.external_id ?? undefined,
            attributes: JSON.parse(r.attributes as string) as unknown,
            doc: JSON.parse(r.doc as string) as unknown,
            active: r.active === 1,
            deleted: r.deleted === 1,
            created: r.created,
            lastModified: r.last_modified,
            version: BigInt(r.version as number),
          })),
        ).toStrictEqual(
          expected.map((i) => ({
            id: i.id,
            scope: i.scope,
            userName: i.userName,
            externalId: i.externalId,
            attributes: i.attributes,
            doc: { ...i.attributes, active: i.active },
            active: i.active,
            deleted: i.deleted,
            created: i.created,
            lastModified: i.lastModified,
            version: revision,
          })),
        );
      }),
      { numRuns: 300 },
    );
  });
});
