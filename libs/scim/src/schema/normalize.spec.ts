import { ScimError } from '../scim-error';
import { normalizeGroupInput, normalizeUserInput } from './normalize';
import { resolveAttribute } from './resolve';
import { applyAttributeSelection, wantsAttribute } from './select-attributes';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('normalizeUserInput', () => {
  it('canonicalises names, drops server-owned and unknown parts, keeps values as sent', () => {
    const doc = normalizeUserInput({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      id: 'x',
      meta: { version: 'W/"1"' },
      groups: [{ value: 'g' }],
      UserName: 'Ann@Example.com',
      NAME: { GivenName: 'Ann' },
      emails: { value: 'ann@example.com', primary: 'true' },
      password: 'secret',
      unknownThing: 1,
      'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group': { x: 1 },
      [ENT.toUpperCase()]: { Department: 'R&D', manager: 'boss' },
    });
    expect(doc).toEqual({
      userName: 'Ann@Example.com',
      name: { givenName: 'Ann' },
      emails: [{ value: 'ann@example.com', primary: true }],
      [ENT]: { department: 'R&D', manager: { value: 'boss' } },
      active: true,
    });
  });

  it('reads "True"/"False" as booleans and null or "" as absent', () => {
    expect(normalizeUserInput({ userName: 'a', active: 'False', title: null, nickName: '' })).toEqual({ userName: 'a', active: false });
  });

  it('does not let __proto__ or constructor keys reach any object', () => {
    const body = JSON.parse('{"userName":"a","__proto__":{"polluted":true},"name":{"constructor":{"x":1},"givenName":"A"}}');
    const doc = normalizeUserInput(body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(doc).toEqual({ userName: 'a', name: { givenName: 'A' }, active: true });
  });

  it.each([
    [{}, 'userName'],
    [{ userName: 7 }, 'userName'],
    [{ userName: 'a', active: 3 }, 'active'],
    [{ userName: 'a', name: 'Ann' }, 'name'],
    [{ userName: 'a', emails: [{ value: 'x', primary: true }, { value: 'y', primary: true }] }, 'emails'],
    [{ userName: 'a', emails: [{ value: 5 }] }, 'emails.value'],
    [{ userName: 'x'.repeat(3000) }, 'userName'],
  ])('refuses %j naming %s, without echoing values', (body, attribute) => {
    try {
      normalizeUserInput(body);
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(ScimError);
      expect((e as ScimError).scimType).toBe('invalidValue');
      expect((e as ScimError).detail).toContain(attribute);
      expect((e as ScimError).detail).not.toContain('Ann');
    }
  });

  it('refuses a body that is not an object with invalidSyntax', () => {
    expect(() => normalizeUserInput([1])).toThrow(ScimError);
    expect(() => normalizeUserInput('x')).toThrow(/object/);
  });
});

describe('normalizeGroupInput', () => {
  it('takes displayName, externalId and member ids (deduplicated)', () => {
    expect(normalizeGroupInput({ DisplayName: 'Eng', externalId: 'e', members: [{ value: 'a' }, { value: 'b', display: 'B' }, { value: 'a' }] })).toEqual({
      displayName: 'Eng',
      externalId: 'e',
      members: ['a', 'b'],
    });
  });
  it('requires displayName', () => {
    expect(() => normalizeGroupInput({ members: [] })).toThrow(ScimError);
  });
});

describe('resolveAttribute', () => {
  it.each([
    ['USERNAME', 'userName'],
    ['name.FamilyName', 'name.familyName'],
    ['emails.value', 'emails.value'],
    ['urn:ietf:params:scim:schemas:core:2.0:User:name.givenName', 'name.givenName'],
    [`${ENT}:Department`, `${ENT}:department`],
    ['manager', `${ENT}:manager`],
    ['meta.lastModified', 'meta.lastModified'],
  ])('%s → %s', (path, canonical) => {
    expect(resolveAttribute('User', path)?.canonicalPath).toBe(canonical);
  });
  it.each(['nosuch', 'name.nosuch', ENT, 'a.b.c', ''])('%j is unknown', (path) => {
    expect(resolveAttribute('User', path)).toBeUndefined();
  });
});

describe('attribute selection', () => {
  const resource = { schemas: ['s'], id: '1', userName: 'a', name: { givenName: 'A', familyName: 'B' }, emails: [{ value: 'x', type: 'work' }], [ENT]: { department: 'd', costCenter: 'c' }, meta: { version: 'v' } };
  it('attributes keeps id and schemas plus the named ones', () => {
    expect(applyAttributeSelection(resource, 'User', { attributes: 'name.givenName,emails.value,' + `${ENT}:department` })).toEqual({
      schemas: ['s'],
      id: '1',
      name: { givenName: 'A' },
      emails: [{ value: 'x' }],
      [ENT]: { department: 'd' },
    });
  });
  it('excludedAttributes removes the named ones but never id', () => {
    expect(applyAttributeSelection(resource, 'User', { excludedAttributes: 'emails,id,meta' })).not.toHaveProperty('emails');
    expect(applyAttributeSelection(resource, 'User', { excludedAttributes: 'emails,id,meta' })).toHaveProperty('id', '1');
  });
  it('lets callers skip work for excluded attributes', () => {
    expect(wantsAttribute('Group', { excludedAttributes: 'members' }, 'members')).toBe(false);
    expect(wantsAttribute('Group', {}, 'members')).toBe(true);
    expect(wantsAttribute('Group', { attributes: 'displayName' }, 'members')).toBe(false);
  });
});
