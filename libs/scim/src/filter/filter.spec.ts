import Database from 'better-sqlite3';
import { ScimError } from '../scim-error';
import { resolveAttribute } from '../schema/resolve';
import { matchesFilter } from './filter.evaluate';
import { parseFilter } from './filter.parser';
import { compileFilterToSql, type FilterSqlMapping } from './filter.sql';
import { compileSort } from './sort';

const resolve = (p: string) => resolveAttribute('User', p);
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const USERS: Record<string, Record<string, unknown>> = {
  ann: { userName: 'Ann@Example.com', externalId: 'A-1', active: true, title: 'CTO', name: { givenName: 'Ann', familyName: 'Smith' }, emails: [{ value: 'ann@example.com', type: 'work', primary: true }, { value: 'ann@home.test', type: 'home' }], [ENT]: { department: 'R&D', manager: { value: 'bob-id' } } },
  bob: { userName: 'bob@example.com', externalId: 'B-1', active: false, name: { givenName: 'Bob', familyName: 'Jones' }, emails: [{ value: 'bob@example.com', type: 'work' }], phoneNumbers: [{ value: '+1 555', type: 'mobile' }] },
  zoe: { userName: 'zoë@example.com', active: true, title: '100% sure_thing', name: { familyName: 'Ångström' }, emails: [] },
  cal: { userName: 'cal@other.test', externalId: 'c-1', active: true, displayName: 'Cal', [ENT]: { department: 'Sales' } },
  dee: { userName: 'dee@example.com', active: true, name: { givenName: 'Dee' } },
};
const CREATED: Record<string, string> = { ann: '2024-01-01T00:00:00.000Z', bob: '2024-06-01T00:00:00.000Z', zoe: '2025-01-01T00:00:00.000Z', cal: '2025-06-01T00:00:00.000Z', dee: '2026-01-01T00:00:00.000Z' };

const mapping: FilterSqlMapping = {
  jsonColumn: 'doc',
  column: (p) =>
    p === 'userName' ? { expr: 'user_name_folded', folded: true } : p === 'externalId' ? { expr: 'external_id' } : p === 'meta.created' ? { expr: 'created' } : p === 'active' ? { expr: 'active', type: 'boolean' } : undefined,
};

describe('SCIM filters: SQL and in-memory evaluation agree', () => {
  const db = new Database(':memory:');
  db.function('scim_fold', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? s.normalize('NFC').toLowerCase() : s));
  db.exec('CREATE TABLE u (id TEXT PRIMARY KEY, seq INTEGER, user_name_folded TEXT, external_id TEXT, created TEXT, active INTEGER, doc TEXT)');
  let seq = 0;
  for (const [id, doc] of Object.entries(USERS)) {
    db.prepare('INSERT INTO u VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      id, seq++, String(doc.userName).normalize('NFC').toLowerCase(), (doc.externalId as string) ?? null, CREATED[id], doc.active ? 1 : 0, JSON.stringify(doc),
    );
  }
  const inMemory = (f: string) => Object.entries(USERS).filter(([id, doc]) => matchesFilter(parseFilter(f, resolve), { ...doc, meta: { created: CREATED[id] } })).map(([id]) => id).sort();
  const inSql = (f: string) => {
    const { sql, params } = compileFilterToSql(parseFilter(f, resolve), mapping);
    return (db.prepare(`SELECT id FROM u WHERE ${sql} ORDER BY id`).all(...params) as { id: string }[]).map((r) => r.id);
  };

  it.each([
    ['userName eq "ANN@example.com"', ['ann']],
    ['userName eq "ZOË@EXAMPLE.COM"', ['zoe']],
    ['externalId eq "A-1"', ['ann']],
    // externalId is unique as the identifier fold reads it, so eq compares folded (docs/decisions.md).
    ['externalId eq "a-1"', ['ann']],
    ['userName co "example"', ['ann', 'bob', 'dee', 'zoe']],
    ['userName sw "B"', ['bob']],
    ['userName ew ".test"', ['cal']],
    ['title co "100%"', ['zoe']],
    ['title co "_"', ['zoe']],
    ['title pr', ['ann', 'zoe']],
    ['not (title pr)', ['bob', 'cal', 'dee']],
    ['title ne "CTO"', ['bob', 'cal', 'dee', 'zoe']],
    ['active eq true', ['ann', 'cal', 'dee', 'zoe']],
    ['active eq false and userName sw "b"', ['bob']],
    ['name.familyName eq "smith" or name.givenName eq "dee"', ['ann', 'dee']],
    ['name.familyName eq "ångström"', ['zoe']],
    ['emails.value eq "ann@home.test"', ['ann']],
    ['emails eq "bob@example.com"', ['bob']],
    ['emails[type eq "work" and value co "bob"]', ['bob']],
    ['emails[type eq "home"] or phoneNumbers[type eq "mobile"]', ['ann', 'bob']],
    ['emails pr', ['ann', 'bob']],
    ['emails.value ne "ann@example.com"', ['bob', 'cal', 'dee', 'zoe']],
    [`${ENT}:department eq "r&d"`, ['ann']],
    [`${ENT}:manager.value eq "bob-id"`, ['ann']],
    ['manager.value pr', ['ann']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "cal@other.test"', ['cal']],
    ['meta.created gt "2025-01-01T00:00:00Z"', ['cal', 'dee']],
    ['meta.created ge "2025-01-01T00:00:00Z" and meta.created lt "2026-01-01T00:00:00Z"', ['cal', 'zoe']],
    ['(userName sw "a" or userName sw "b") and not (active eq false)', ['ann']],
    ['userName gt "c"', ['cal', 'dee', 'zoe']],
    ['displayName eq null', ['ann', 'bob', 'dee', 'zoe']],
  ])('%s', (filter, expected) => {
    expect(inSql(filter)).toEqual(expected);
    expect(inMemory(filter)).toEqual(expected);
  });

  it.each([
    '',
    'userName',
    'userName eq',
    'userName zz "x"',
    'nosuch eq "x"',
    'name eq "x"',
    'active gt true',
    'userName eq "unterminated',
    '(userName eq "x"',
    'userName eq "x")',
    'userName eq "x" extra',
    'emails[type eq "work"',
    'emails[]',
    'userName eq 5',
    'active eq "yes"',
    'meta.created gt "not a date"',
    `${'('.repeat(40)}userName eq "x"${')'.repeat(40)}`,
    'userName eq "x" or '.repeat(300) + 'userName eq "y"',
  ])('refuses %j with invalidFilter', (filter) => {
    let error: unknown;
    try {
      parseFilter(filter, resolve);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScimError);
    expect((error as ScimError).scimType).toBe('invalidFilter');
    expect((error as ScimError).status).toBe(400);
  });

  it('never echoes string values in error details', () => {
    try {
      parseFilter('nosuch eq "secret.person@example.com"', resolve);
    } catch (e) {
      expect((e as ScimError).detail).not.toContain('secret.person');
    }
  });

  it('compiles sortBy to an order with a stable tie-breaker and refuses unknown ones', () => {
    expect(compileSort('userName', 'descending', mapping, resolve, 'seq')).toBe('user_name_folded DESC, seq DESC');
    expect(compileSort(undefined, undefined, mapping, resolve, 'seq')).toBeUndefined();
    const byEmail = compileSort('emails.value', undefined, mapping, resolve, 'seq') as string;
    const ids = (db.prepare(`SELECT id FROM u ORDER BY ${byEmail}`).all() as { id: string }[]).map((r) => r.id);
    // Users without an email sort first; then by the primary (else first) address.
    expect(ids.slice(-2)).toEqual(['ann', 'bob']);
    expect(() => compileSort('password', undefined, mapping, resolve, 'seq')).toThrow(ScimError);
    expect(() => compileSort('userName', 'sideways', mapping, resolve, 'seq')).toThrow(ScimError);
  });
});
