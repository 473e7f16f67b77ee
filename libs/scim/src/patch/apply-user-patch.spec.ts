import { ScimError } from '../scim-error';
import { normalizeUserDocument } from '../schema/normalize';
import { resolveAttribute } from '../schema/resolve';
import { applyUserPatch } from './apply-user-patch';

const resolve = (p: string) => resolveAttribute('User', p);
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patch = (doc: Record<string, unknown>, ...ops: Record<string, unknown>[]) =>
  normalizeUserDocument(applyUserPatch(doc, { schemas: [OP], Operations: ops }, resolve, { id: 'me' }).doc);

const base = () => ({
  userName: 'ann@example.com',
  active: true,
  name: { givenName: 'Ann', familyName: 'Smith' },
  emails: [{ value: 'ann@example.com', type: 'work', primary: true }],
});

describe('PATCH dialects on Users', () => {
  describe('Okta', () => {
    it('deactivates with a pathless object value', () => {
      expect(patch(base(), { op: 'replace', value: { active: false } }).active).toBe(false);
    });
    it('accepts and drops a password change', () => {
      const r = patch(base(), { op: 'replace', value: { password: 'hunter2' } });
      expect(JSON.stringify(r)).not.toContain('hunter2');
    });
    it('replaces several attributes at once, ignoring echoed id/meta/schemas', () => {
      const r = patch(base(), { op: 'replace', value: { id: 'me', meta: { version: 'x' }, schemas: ['x'], title: 'CTO', name: { familyName: 'Jones' } } });
      expect(r).toMatchObject({ title: 'CTO', name: { givenName: 'Ann', familyName: 'Jones' } });
    });
  });

  describe('Entra ID (default tenants)', () => {
    it('takes capitalised ops and "False" strings', () => {
      expect(patch(base(), { op: 'Replace', path: 'active', value: 'False' }).active).toBe(false);
      expect(patch({ ...base(), active: false }, { op: 'Replace', path: 'active', value: 'True' }).active).toBe(true);
    });
    it('creates the entry a value path names when it does not exist yet', () => {
      const r = patch(base(), { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555' }, { op: 'Add', path: 'addresses[type eq "work"].postalCode', value: '12345' });
      expect(r.phoneNumbers).toEqual([{ type: 'mobile', value: '+1 555' }]);
      expect(r.addresses).toEqual([{ type: 'work', postalCode: '12345' }]);
    });
    it('replaces the matching entry of a value path', () => {
      const r = patch(base(), { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@example.com' });
      expect(r.emails).toEqual([{ value: 'new@example.com', type: 'work', primary: true }]);
    });
    it('sets sub-attributes and enterprise attributes by path', () => {
      const r = patch(base(), { op: 'Replace', path: 'name.givenName', value: 'Annie' }, { op: 'Add', path: `${ENT}:department`, value: 'R&D' });
      expect(r.name).toEqual({ givenName: 'Annie', familyName: 'Smith' });
      expect(r[ENT]).toEqual({ department: 'R&D' });
    });
    it('takes the manager as a plain id or as an array, and removes it with "" or Remove', () => {
      expect(patch(base(), { op: 'Add', path: `${ENT}:manager`, value: 'boss-id' })[ENT]).toEqual({ manager: { value: 'boss-id' } });
      expect(patch(base(), { op: 'Add', path: `${ENT}:manager`, value: [{ $ref: null, value: 'boss-2' }] })[ENT]).toEqual({ manager: { value: 'boss-2' } });
      const withManager = { ...base(), [ENT]: { manager: { value: 'boss' }, department: 'x' } };
      expect(patch(withManager, { op: 'Replace', path: `${ENT}:manager`, value: '' })[ENT]).toEqual({ department: 'x' });
      expect(patch(withManager, { op: 'Remove', path: `${ENT}:manager` })[ENT]).toEqual({ department: 'x' });
      expect(patch(base(), { op: 'Add', path: 'manager', value: 'm' })[ENT]).toEqual({ manager: { value: 'm' } });
    });
  });

  describe('Entra ID (aadOptscim062020 tenants)', () => {
    it('takes pathless values whose keys are paths, with real booleans', () => {
      const r = patch(base(), { op: 'replace', value: { displayName: 'Ann S', 'name.givenName': 'Anna', [`${ENT}:employeeNumber`]: '7', active: false } });
      expect(r).toMatchObject({ displayName: 'Ann S', name: { givenName: 'Anna' }, [ENT]: { employeeNumber: '7' }, active: false });
    });
    it('takes the whole extension object under its URN', () => {
      expect(patch(base(), { op: 'add', value: { [ENT]: { department: 'Ops' } } })[ENT]).toEqual({ department: 'Ops' });
    });
  });

  describe('RFC 7644 forms', () => {
    it('removes by value filter; a filter that matches nothing changes nothing', () => {
      const doc = { ...base(), emails: [{ value: 'a@w', type: 'work' }, { value: 'a@h', type: 'home' }] };
      expect(patch(doc, { op: 'remove', path: 'emails[type eq "home"]' }).emails).toEqual([{ value: 'a@w', type: 'work' }]);
      expect(patch(doc, { op: 'remove', path: 'emails[type eq "other"]' }).emails).toEqual(doc.emails);
    });
    it('add appends to a multi-valued attribute and a new primary clears the old one', () => {
      const r = patch(base(), { op: 'add', path: 'emails', value: [{ value: 'b@example.com', type: 'home', primary: true }] });
      expect(r.emails).toEqual([
        { value: 'ann@example.com', type: 'work', primary: false },
        { value: 'b@example.com', type: 'home', primary: true },
      ]);
    });
    it('null or "" clears an attribute', () => {
      expect(patch({ ...base(), title: 'x' }, { op: 'replace', path: 'title', value: '' }).title).toBeUndefined();
      expect(patch({ ...base(), title: 'x' }, { op: 'replace', path: 'title', value: null }).title).toBeUndefined();
    });
  });

  describe('refusals', () => {
    const err = (doc: Record<string, unknown>, body: unknown) => {
      try {
        applyUserPatch(doc, body, resolve, { id: 'me' });
      } catch (e) {
        return e as ScimError;
      }
      throw new Error('expected a refusal');
    };
    it.each([
      [{ Operations: [{ op: 'replace', path: 'nosuch', value: 1 }] }, 'invalidPath'],
      [{ Operations: [{ op: 'replace', path: 'id', value: 'other' }] }, 'mutability'],
      [{ Operations: [{ op: 'replace', value: { id: 'other' } }] }, 'mutability'],
      [{ Operations: [{ op: 'jump', path: 'title', value: 1 }] }, 'invalidSyntax'],
      [{ Operations: [] }, 'invalidSyntax'],
      [{}, 'invalidSyntax'],
      [{ Operations: [{ op: 'remove' }] }, 'noTarget'],
      [{ Operations: [{ op: 'replace', path: 'active', value: 7 }] }, 'invalidValue'],
      [{ Operations: [{ op: 'remove', path: 'userName' }] }, 'invalidValue'],
      [{ Operations: [{ op: 'replace', path: 'emails[type eq "work"' }] }, 'invalidPath'],
    ])('%j → %s', (body, scimType) => {
      expect(err(base(), body).scimType).toBe(scimType);
    });
    it('is atomic: a bad second operation leaves the document untouched', () => {
      const doc = base();
      const copy = structuredClone(doc);
      err(doc, { Operations: [{ op: 'replace', path: 'title', value: 'x' }, { op: 'replace', path: 'nosuch', value: 1 }] });
      expect(doc).toEqual(copy);
    });
    it('wrong value types are refused by the normaliser naming the attribute', () => {
      expect(() => patch(base(), { op: 'replace', path: 'name', value: 'plain string' })).toThrow(ScimError);
      try {
        patch(base(), { op: 'replace', path: 'title', value: 42 });
      } catch (e) {
        expect((e as ScimError).scimType).toBe('invalidValue');
        expect((e as ScimError).detail).toContain('title');
      }
    });
  });
});
