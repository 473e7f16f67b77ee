import Database from 'better-sqlite3';
import fc from 'fast-check';
import { ScimError } from '../scim-error';
import { applyUserPatch } from '../patch/apply-user-patch';
import { resolveAttribute } from '../schema/resolve';
import { ENTERPRISE_USER_SCHEMA } from '../schema/enterprise-user.schema';
import { filterOf, patchPathOf, schemaAttributes } from '../../../../test/support/scim-grammar';
import { matchesFilter } from './filter.evaluate';
import { FILTER_LIMITS, PATCH_PATH_LIMITS } from './filter.limits';
import { parseFilter } from './filter.parser';
import { compileFilterToSql, type FilterSqlMapping } from './filter.sql';

/**
 * Filters and PATCH paths generated from the grammar and the User schema: every attribute and
 * sub-attribute × every operator × values of every type (empty strings, far dates, huge and
 * non-finite numbers), combined with and/or/not/parentheses/value paths, at and past each limit.
 * Whatever is generated is either refused with a ScimError 400 or accepted — and then the SQL
 * runs and agrees with the in-memory evaluator. Nothing else (a TypeError, an SQLite error, a
 * stack overflow: a 500 on the wire) may come out.
 */
const resolve = (p: string) => resolveAttribute('User', p);
const ENT = ENTERPRISE_USER_SCHEMA.id;
const USER_ATTRIBUTES = schemaAttributes('User');
const filter = filterOf(USER_ATTRIBUTES);

const USERS: Record<string, Record<string, unknown>> = {
  ann: { userName: 'Ann@Example.com', externalId: 'A-1', active: true, title: 'CTO', name: { givenName: 'Ann', familyName: 'Smith' }, emails: [{ value: 'ann@example.com', type: 'work', primary: true }, { value: 'x@home.test', type: 'home' }], [ENT]: { department: 'R&D', manager: { value: 'bob-id' } } },
  bob: { userName: 'bob@example.com', active: false, emails: [{ value: 'bob@example.com', type: 'work' }], phoneNumbers: [{ value: '+1 555', type: 'mobile' }], addresses: [{ locality: 'Ann Arbor', primary: true }] },
  cal: { userName: 'cal', active: true, displayName: 'x', emails: [] },
};
const CREATED = '2024-01-01T00:00:00.000Z';
const mapping: FilterSqlMapping = {
  jsonColumn: 'doc',
  column: (p) =>
    p === 'userName' ? { expr: 'user_name_folded', folded: true } : p === 'externalId' ? { expr: 'external_id' } : p === 'meta.created' ? { expr: 'created' } : p === 'active' ? { expr: 'active', type: 'boolean' } : undefined,
};

describe('filters generated from the grammar', () => {
  const db = new Database(':memory:');
  db.function('scim_fold', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? s.normalize('NFC').toLowerCase() : s));
  db.exec('CREATE TABLE u (id TEXT PRIMARY KEY, user_name_folded TEXT, external_id TEXT, created TEXT, active INTEGER, doc TEXT)');
  for (const [id, doc] of Object.entries(USERS)) {
    db.prepare('INSERT INTO u VALUES (?, ?, ?, ?, ?, ?)').run(id, String(doc.userName).toLowerCase(), (doc.externalId as string) ?? null, CREATED, doc.active ? 1 : 0, JSON.stringify({ ...doc, meta: { created: CREATED } }));
  }
  const inMemory = (f: string) =>
    Object.entries(USERS)
      .filter(([, doc]) => matchesFilter(parseFilter(f, resolve), { ...doc, meta: { created: CREATED } }))
      .map(([id]) => id)
      .sort();
  const inSql = (f: string) => {
    const { sql, params } = compileFilterToSql(parseFilter(f, resolve), mapping);
    return (db.prepare(`SELECT id FROM u WHERE ${sql} ORDER BY id`).all(...params) as { id: string }[]).map((r) => r.id);
  };
  const refusedWith400 = (e: unknown, scimType = 'invalidFilter') => e instanceof ScimError && e.status === 400 && e.scimType === scimType;

  it('refuses or answers every generated filter, SQL and memory agreeing', () => {
    fc.assert(
      fc.property(filter, (f) => {
        let sql: string[];
        try {
          sql = inSql(f);
        } catch (e) {
          if (!refusedWith400(e)) throw e;
          return;
        }
        // Operators the SQL compiler and the evaluator define alike; others are covered by filter.spec.
        if (!/ (ne|gt|ge|lt|le) /.test(f) && !/ null/.test(f)) expect(inMemory(f)).toEqual(sql);
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it.each([
    ['userName ew ""'],
    ['userName sw ""'],
    ['emails co ""'],
    ['emails[type co ""]'],
    ['displayName co ""'],
    ['name[givenName eq "x"]'],
    [`${ENT}:manager[value eq "x"]`],
    ['meta.created gt "+010000-01-01T00:00:00Z"'],
    ['meta.created lt "-000001-01-01T00:00:00Z"'],
    ['meta.created co "2024"'],
    ['active co "t"'],
    ['userName eq 1e400'],
  ])('refuses %s with 400 invalidFilter', (f) => {
    expect(() => inSql(f)).toThrow(ScimError);
    try {
      inSql(f);
    } catch (e) {
      expect(refusedWith400(e)).toBe(true);
    }
  });

  it("reads Entra's emails[type eq \"work\"].value eq form as one element satisfying both", () => {
    const entra = 'emails[type eq "work"].value eq "ann@example.com"';
    expect(inSql(entra)).toEqual(['ann']);
    expect(inMemory(entra)).toEqual(['ann']);
    // Not "some work email and some email equal to it": x@home.test is ann's home address.
    expect(inSql('emails[type eq "work"].value eq "x@home.test"')).toEqual([]);
    expect(inMemory('emails[type eq "work"].value eq "x@home.test"')).toEqual([]);
    expect(inSql('emails[type eq "work"].value pr and active eq true')).toEqual(['ann']);
    expect(() => inSql('emails[type eq "work"].nosuch eq "x"')).toThrow(ScimError);
  });

  it('merges or-joined conditions on one multi-valued attribute into one walk with one fold per sub-attribute', () => {
    const f = Array.from({ length: 20 }, (_, i) => `emails.value co "z${i}"`).join(' or ') + ' or emails[type eq "home"]';
    const { sql } = compileFilterToSql(parseFilter(f, resolve), mapping);
    expect(sql.match(/json_each/g)).toHaveLength(1);
    expect(sql.match(/scim_fold/g)).toHaveLength(2);
    expect(inSql(f)).toEqual(['ann']);
  });

  describe('the budget', () => {
    const terms = (n: number, t = 'userName eq "x"') => Array.from({ length: n }, () => t).join(' or ');
    const nest = (n: number) => `${'('.repeat(n)}userName eq "x"${')'.repeat(n)}`;
    const limitError = (f: string, limit: number) => {
      try {
        inSql(f);
      } catch (e) {
        expect(refusedWith400(e)).toBe(true);
        expect((e as ScimError).detail).toContain(`the limit is ${limit}`);
        return;
      }
      throw new Error(`accepted: ${f.slice(0, 60)}`);
    };

    it('accepts each limit and refuses one past it, naming the limit', () => {
      expect(inSql(terms(FILTER_LIMITS.maxTerms))).toEqual([]);
      limitError(terms(FILTER_LIMITS.maxTerms + 1), FILTER_LIMITS.maxTerms);
      expect(inSql(nest(FILTER_LIMITS.maxDepth))).toEqual([]);
      limitError(nest(FILTER_LIMITS.maxDepth + 1), FILTER_LIMITS.maxDepth);
      const vp = (n: number) => `emails[${terms(n, 'type eq "x"')}]`;
      expect(inSql(vp(FILTER_LIMITS.maxValuePathTerms))).toEqual([]);
      limitError(vp(FILTER_LIMITS.maxValuePathTerms + 1), FILTER_LIMITS.maxValuePathTerms);
      const longest = `userName eq "${'x'.repeat(FILTER_LIMITS.maxLength - 14)}"`;
      expect(longest).toHaveLength(FILTER_LIMITS.maxLength);
      expect(inSql(longest)).toEqual([]);
      limitError(`${longest} `, FILTER_LIMITS.maxLength);
      const scans = ['title', 'nickName', 'displayName', 'locale', 'timezone', 'userType', 'preferredLanguage', 'profileUrl', 'name.givenName'];
      const scanning = (n: number) => scans.slice(0, n).map((a) => `${a} eq "x"`).join(' and ');
      expect(inSql(scanning(FILTER_LIMITS.maxDocumentScans))).toEqual([]);
      limitError(scanning(FILTER_LIMITS.maxDocumentScans + 1), FILTER_LIMITS.maxDocumentScans);
    });
  });
});

describe('PATCH paths generated from the grammar', () => {
  const doc = { userName: 'ann', emails: [{ value: 'a@x', type: 'work' }], name: { givenName: 'Ann' }, active: true };
  const path = patchPathOf(USER_ATTRIBUTES, 'emails');
  const op = fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path, value: fc.oneof(fc.constant('v'), fc.constant(null), fc.constant({ value: 'v' }), fc.boolean()) });

  it('applies or refuses every generated path with a 400 ScimError, never anything else', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 3 }), (ops) => {
        try {
          applyUserPatch(doc, { Operations: ops }, resolve, { id: 'me' });
        } catch (e) {
          if (!(e instanceof ScimError) || e.status !== 400) throw e;
        }
      }),
      { numRuns: 1000, seed: 12 },
    );
  });

  it('refuses a path past its budget with invalidPath naming the limit', () => {
    const run = (p: string) => () => applyUserPatch(doc, { Operations: [{ op: 'replace', path: p, value: 'x' }] }, resolve);
    const over = `emails[${Array.from({ length: FILTER_LIMITS.maxValuePathTerms + 1 }, () => 'type eq "w"').join(' or ')}].value`;
    expect(run(over)).toThrow(expect.objectContaining({ scimType: 'invalidPath', detail: expect.stringContaining(`the limit is ${FILTER_LIMITS.maxValuePathTerms}`) }));
    expect(run(`emails[type eq "${'w'.repeat(PATCH_PATH_LIMITS.maxLength)}"].value`)).toThrow(
      expect.objectContaining({ scimType: 'invalidPath', detail: expect.stringContaining(`the limit is ${PATCH_PATH_LIMITS.maxLength}`) }),
    );
    const deep = `emails[${'not ('.repeat(FILTER_LIMITS.maxDepth + 1)}type eq "w"${')'.repeat(FILTER_LIMITS.maxDepth + 1)}].value`;
    expect(run(deep)).toThrow(expect.objectContaining({ scimType: 'invalidPath' }));
    const within = `emails[${Array.from({ length: FILTER_LIMITS.maxValuePathTerms }, () => 'type eq "work"').join(' or ')}].display`;
    expect(applyUserPatch(doc, { Operations: [{ op: 'replace', path: within, value: 'x' }] }, resolve).doc.emails).toEqual([{ value: 'a@x', type: 'work', display: 'x' }]);
  });
});
