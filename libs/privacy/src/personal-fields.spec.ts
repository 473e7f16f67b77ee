import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ACCOUNT_EVENT_TYPES, GROUP_EVENT_TYPES, RESERVATION_EVENT_TYPES, SAML_GROUP_LINK_EVENT_TYPES, SCIM_GROUP_EVENT_TYPES } from '@app/identity';
import { TOKEN_EVENT_TYPES } from '@app/auth';
import { CLASSIFIED_TYPES } from './personal-fields';

const ROOT = join(__dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'testing' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Event types the code appends outside the families: `type: 'X'` in a file that appends to the store. */
function appendedTypes(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'apps'))]) {
    const text = readFileSync(file, 'utf8');
    if (!/\.append(Multi)?\(/.test(text)) continue;
    for (const m of text.matchAll(/type: '([A-Z][A-Za-z]+)',\s*data:/g)) found.set(m[1], file);
    for (const m of text.matchAll(/['"]([A-Z][A-Za-z]+)['"]\s*,\s*\{[^}]*\}\s*,\s*(request\.)?metadata/g)) found.set(m[1], file);
  }
  return found;
}

describe('personal-field classification', () => {
  it('classifies every event type of every family', () => {
    const families = [...ACCOUNT_EVENT_TYPES, ...SCIM_GROUP_EVENT_TYPES, ...GROUP_EVENT_TYPES, ...SAML_GROUP_LINK_EVENT_TYPES, ...TOKEN_EVENT_TYPES, ...RESERVATION_EVENT_TYPES];
    expect(families.filter((t) => !CLASSIFIED_TYPES.has(t))).toEqual([]);
  });

  it('classifies every event type the code appends (a new one must say which of its fields are personal)', () => {
    const unclassified = [...appendedTypes()].filter(([t]) => !CLASSIFIED_TYPES.has(t)).map(([t, file]) => `${t} (${file.slice(ROOT.length + 1)})`);
    expect(unclassified).toEqual([]);
  });
});
