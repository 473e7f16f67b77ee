import { ScimError } from '../scim-error';
import { resolveAttribute } from '../schema/resolve';
import { planGroupPatch } from './group-patch';

const resolve = (p: string) => resolveAttribute('Group', p);
const current = { id: 'g1', displayName: 'Engineering' };
const plan = (...ops: Record<string, unknown>[]) => planGroupPatch(current, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops }, resolve);

describe('PATCH dialects on Groups (no member list needed)', () => {
  it('Okta rename through a value carrying the same id', () => {
    expect(plan({ op: 'replace', value: { id: 'g1', displayName: 'Eng' } })).toEqual({ displayName: 'Eng', memberOps: [] });
  });
  it('Okta mixed remove-by-filter and add in one request, in order', () => {
    expect(plan({ op: 'remove', path: 'members[value eq "u1"]' }, { op: 'add', path: 'members', value: [{ value: 'u2' }, { value: 'u3' }] }).memberOps).toEqual([
      { op: 'remove', ids: ['u1'] },
      { op: 'add', ids: ['u2', 'u3'] },
    ]);
  });
  it('Okta replace members (push now)', () => {
    expect(plan({ op: 'replace', path: 'members', value: [{ value: 'u9' }] }).memberOps).toEqual([{ op: 'replace', ids: ['u9'] }]);
  });
  it('Entra Add with $ref null, Remove with a value list, Replace displayName', () => {
    expect(
      plan(
        { op: 'Add', path: 'members', value: [{ $ref: null, value: 'a' }, { $ref: null, value: 'b' }] },
        { op: 'Remove', path: 'members', value: [{ value: 'a' }] },
        { op: 'Replace', path: 'displayName', value: 'New' },
      ),
    ).toEqual({ displayName: 'New', memberOps: [{ op: 'add', ids: ['a', 'b'] }, { op: 'remove', ids: ['a'] }] });
  });
  it('removal by an or-filter of ids, and remove members without value removes all', () => {
    expect(plan({ op: 'remove', path: 'members[value eq "a" or value eq "b"]' }).memberOps).toEqual([{ op: 'remove', ids: ['a', 'b'] }]);
    expect(plan({ op: 'remove', path: 'members' }).memberOps).toEqual([{ op: 'removeAll' }]);
  });
  it('externalId set and cleared', () => {
    expect(plan({ op: 'replace', path: 'externalId', value: 'x' }).externalId).toBe('x');
    expect(plan({ op: 'remove', path: 'externalId' }).externalId).toBeNull();
  });
  it.each([
    [{ op: 'replace', value: { id: 'other', displayName: 'x' } }, 'mutability'],
    [{ op: 'remove', path: 'members[display eq "x"]' }, 'invalidFilter'],
    [{ op: 'add', path: 'members', value: [{ value: 5 }] }, 'invalidValue'],
    [{ op: 'replace', path: 'nosuch', value: 1 }, 'invalidPath'],
    [{ op: 'remove', path: 'displayName' }, 'invalidValue'],
  ])('%j → %s', (op, scimType) => {
    try {
      plan(op);
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(ScimError);
      expect((e as ScimError).scimType).toBe(scimType);
    }
  });
});
