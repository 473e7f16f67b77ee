import { describe, expect, it } from '@jest/globals';
import { UniquenessViolation } from '../errors';
import { groupScope, INSTANCE_SCOPE, type ScopeId } from '../scope';
import {
  matchScimUser,
  type ScimUserHolder,
  type ScimUserMatch,
  type ScimUserMatchFacts,
  type ScimUserPost,
} from './match-scim-user.policy';

type Status = 'live' | 'inactive' | 'deleted';
const STATUSES: readonly Status[] = ['live', 'inactive', 'deleted'];
const GROUP = groupScope('0b6c3a8e-3c52-4c8e-9b4c-2f1f4a7d9e01');

const identity = (id: string, status: Status, externalId?: string): ScimUserHolder['identity'] => ({
  id,
  active: status === 'live',
  deleted: status === 'deleted',
  ...(externalId !== undefined ? { externalId } : {}),
});
const holder = (accountId: string, id: string, status: Status, externalId?: string): ScimUserHolder => ({
  accountId,
  identity: identity(id, status, externalId),
});

/** An outcome written the way the tables below read: `409 nameId`, `revive A`, `link`, `provision`. */
function outcome(match: ScimUserMatch): string {
  switch (match.kind) {
    case 'conflict':
      expect(match.error).toBeInstanceOf(UniquenessViolation);
      return `409 ${match.error.kind}`;
    case 'revive':
      return `revive ${match.identityId}`;
    case 'link':
      return `link ${match.accountId}`;
    case 'provision':
      return 'provision';
  }
}

describe('matchScimUser: the rows of 10-domain.md, one by one', () => {
  const post = (scope: ScopeId, extra: Partial<ScimUserPost> = {}): ScimUserPost => ({ scope, userName: 'jdoe@example.com', ...extra });
  it.each<[string, ScimUserPost, ScimUserMatchFacts, string]>([
    ['nothing held: a new account', post(INSTANCE_SCOPE, { externalId: 'x' }), {}, 'provision'],
    ['a live identity holds the externalId', post(INSTANCE_SCOPE, { externalId: 'x' }), { externalIdHolder: holder('acc-a', 'A', 'live', 'x') }, '409 nameId'],
    ['a live identity holds the userName', post(INSTANCE_SCOPE), { userNameHolder: holder('acc-a', 'A', 'live') }, '409 userName'],
    ['re-POST of a deleted user with its externalId: same id back', post(INSTANCE_SCOPE, { externalId: 'x' }), { externalIdHolder: holder('acc-a', 'A', 'deleted', 'x'), userNameHolder: holder('acc-a', 'A', 'deleted', 'x') }, 'revive A'],
    ['externalIds compare case-insensitively', post(INSTANCE_SCOPE, { externalId: 'X' }), { externalIdHolder: holder('acc-a', 'A', 'inactive', 'x') }, 'revive A'],
    ['re-POST of a deactivated user without externalId: same id back', post(GROUP), { userNameHolder: holder('acc-a', 'A', 'inactive') }, 'revive A'],
    ['an inactive identity with the userName and no externalId adopts the POSTed one', post(INSTANCE_SCOPE, { externalId: 'x' }), { userNameHolder: holder('acc-a', 'A', 'deleted') }, 'revive A'],
    ['same userName, another externalId: a different person', post(INSTANCE_SCOPE, { externalId: 'x' }), { userNameHolder: holder('acc-a', 'A', 'deleted', 'y') }, '409 userName'],
    ['the externalId brings back A, but B holds the userName', post(INSTANCE_SCOPE, { externalId: 'x' }), { externalIdHolder: holder('acc-a', 'A', 'inactive', 'x'), userNameHolder: holder('acc-b', 'B', 'inactive') }, '409 userName'],
    ['the externalId is A’s userName-derived NameID (A has no externalId)', post(INSTANCE_SCOPE, { externalId: 'x' }), { externalIdHolder: holder('acc-a', 'A', 'deleted') }, '409 nameId'],
    ['instance scope: an account with the email is linked', post(INSTANCE_SCOPE, { email: 'j@corp.example' }), { emailHolder: { accountId: 'acc-c' } }, 'link acc-c'],
    ['group scope, verified domain: linked', post(GROUP, { email: 'j@Corp.Example' }), { emailHolder: { accountId: 'acc-c' }, verifiedDomains: ['corp.example'] }, 'link acc-c'],
    ['group scope, unverified domain: support must link', post(GROUP, { email: 'j@corp.example' }), { emailHolder: { accountId: 'acc-c' }, verifiedDomains: ['other.example'] }, '409 email'],
    ['group scope, the group is gone: support must link', post(GROUP, { email: 'j@corp.example' }), { emailHolder: { accountId: 'acc-c' } }, '409 email'],
    ['an inactive identity wins over an email match', post(INSTANCE_SCOPE, { email: 'j@corp.example' }), { userNameHolder: holder('acc-a', 'A', 'inactive'), emailHolder: { accountId: 'acc-c' } }, 'revive A'],
  ])('%s', (_name, request, facts, expected) => {
    expect(outcome(matchScimUser(request, facts))).toBe(expected);
  });

  it('says who holds the value (for the audit trail) and keeps the different-person detail apart', () => {
    const m = matchScimUser(post(INSTANCE_SCOPE, { externalId: 'x' }), { userNameHolder: holder('acc-a', 'A', 'inactive', 'y') });
    expect(m).toEqual({ kind: 'conflict', error: expect.any(UniquenessViolation) });
    const error = (m as Extract<ScimUserMatch, { kind: 'conflict' }>).error;
    expect(error.holderId).toBe('A');
    expect(error.message).toBe('userName is held by an inactive identity with a different externalId in this scope');
  });
});

/**
 * Every combination of: scope × POSTed externalId × who holds it (live / inactive / deleted,
 * with that externalId or only as its userName-derived NameID) × who holds the userName (the
 * same identity, or another one with no or another externalId, in each state) × the email
 * (not POSTed / free / held) × whether the group verified its domain. Holders that could not
 * exist together are left out (an identity with externalId X always holds NameID X).
 *
 * The expected outcome comes from `SPEC_ROWS`: the lifecycle table of 10-domain.md as an
 * ordered list of (when, then), first match wins, written independently of the policy's code.
 */
interface Row {
  readonly scope: ScopeId;
  readonly externalId?: 'x';
  readonly byExternalId?: { status: Status; hasExternalId: boolean };
  readonly byUserName?: 'same' | { status: Status; externalId: 'none' | 'other' };
  readonly email: 'none' | 'free' | 'held';
  readonly verified: boolean;
}

const live = (s: { status: Status } | undefined) => s?.status === 'live';
const SPEC_ROWS: readonly [string, (r: Row) => boolean, (r: Row) => string][] = [
  ['the externalId is held live', (r) => live(r.byExternalId), () => '409 nameId'],
  ['the externalId is held by an identity without it (its NameID is its userName)', (r) => r.byExternalId?.hasExternalId === false, () => '409 nameId'],
  ['the userName is held live by another identity', (r) => typeof r.byUserName === 'object' && live(r.byUserName), () => '409 userName'],
  ['the externalId brings back A, but another identity holds the userName', (r) => r.byExternalId !== undefined && typeof r.byUserName === 'object', () => '409 userName'],
  ['the inactive identity with this externalId comes back', (r) => r.byExternalId !== undefined, () => 'revive A'],
  ['an inactive identity with the userName and another externalId is a different person', (r) => typeof r.byUserName === 'object' && r.externalId !== undefined && r.byUserName.externalId === 'other', () => '409 userName'],
  ['the inactive identity with the userName comes back', (r) => typeof r.byUserName === 'object', () => 'revive B'],
  ['group scope: an email of an unverified domain is left to support', (r) => r.email === 'held' && r.scope !== INSTANCE_SCOPE && !r.verified, () => '409 email'],
  ['an account holds the email: linked', (r) => r.email === 'held', () => 'link acc-c'],
  ['nothing matched', () => true, () => 'provision'],
];

function rows(): Row[] {
  const out: Row[] = [];
  for (const scope of [INSTANCE_SCOPE, GROUP])
    for (const externalId of [undefined, 'x' as const])
      for (const byExternalId of externalId ? [undefined, ...STATUSES.flatMap((status) => [true, false].map((hasExternalId) => ({ status, hasExternalId })))] : [undefined])
        for (const byUserName of [
          undefined,
          ...(byExternalId ? ['same' as const] : []),
          ...STATUSES.flatMap((status) => (['none', 'other'] as const).map((e) => ({ status, externalId: e }))),
        ])
          for (const email of ['none', 'free', 'held'] as const)
            for (const verified of [true, false]) out.push({ scope, externalId, byExternalId, byUserName, email, verified });
  return out;
}

function request(r: Row): ScimUserPost {
  return { scope: r.scope, userName: 'jdoe', ...(r.externalId ? { externalId: r.externalId } : {}), ...(r.email !== 'none' ? { email: 'jdoe@corp.example' } : {}) };
}

function facts(r: Row): ScimUserMatchFacts {
  const a = r.byExternalId && holder('acc-a', 'A', r.byExternalId.status, r.byExternalId.hasExternalId ? 'X' : undefined);
  const b =
    r.byUserName === 'same'
      ? a
      : r.byUserName && holder('acc-b', 'B', r.byUserName.status, r.byUserName.externalId === 'other' ? 'y' : undefined);
  return {
    ...(a ? { externalIdHolder: a } : {}),
    ...(b ? { userNameHolder: b } : {}),
    ...(r.email === 'held' ? { emailHolder: { accountId: 'acc-c' } } : {}),
    ...(r.scope !== INSTANCE_SCOPE ? { verifiedDomains: r.verified ? ['CORP.example'] : ['other.example'] } : {}),
  };
}

function label(r: Row): string {
  const by = (s: { status: Status } | undefined, extra: string) => (s ? `${s.status}${extra}` : 'nobody');
  return [
    r.scope === INSTANCE_SCOPE ? 'instance' : 'group',
    r.externalId ? 'externalId POSTed' : 'no externalId',
    ...(r.externalId ? [`externalId held by ${by(r.byExternalId, r.byExternalId?.hasExternalId ? ' A' : ' A (NameID = its userName)')}`] : []),
    `userName held by ${r.byUserName === 'same' ? 'A too' : by(r.byUserName, r.byUserName ? ` B (${r.byUserName.externalId === 'none' ? 'no' : 'another'} externalId)` : '')}`,
    `email ${r.email}`,
    r.verified ? 'domain verified' : 'domain not verified',
  ].join(', ');
}

describe('matchScimUser: the whole matrix', () => {
  const matrix = rows().map((r) => {
    const rule = SPEC_ROWS.find(([, when]) => when(r))!;
    return { name: `${label(r)} → ${rule[2](r)} (${rule[0]})`, row: r, expected: rule[2](r) };
  });

  it('covers every outcome', () => {
    expect(new Set(matrix.map((m) => m.expected))).toEqual(
      new Set(['409 nameId', '409 userName', '409 email', 'revive A', 'revive B', 'link acc-c', 'provision']),
    );
  });

  it.each(matrix)('$name', ({ row, expected }) => {
    expect(outcome(matchScimUser(request(row), facts(row)))).toBe(expected);
  });
});
