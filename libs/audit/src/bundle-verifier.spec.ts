import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import type { ChainedEnvelope } from './audit.projection';
import { CSV_HEADER, csvCell, csvText } from './audit-csv';
import { BUNDLE_FILES, type BundleManifest, fingerprintOf, manifestText, ndjsonLine, signManifest, type SignedManifest } from './bundle';
import { generateSigningKey } from './checkpoint';
import { canonical, chainHash } from './hash-chain';
import { parseCanonicalJson } from './strict-json';
import { generateBundleInMemory } from './testing/bundle-generator';
import { verifyBundle } from './verify-bundle';

type Files = Record<string, string>;
const F = BUNDLE_FILES;

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);
const records = (files: Files) => lines(files[F.events]).map((l) => JSON.parse(l) as ChainedEnvelope);
const manifestOf = (files: Files) => JSON.parse(files[F.manifest]) as SignedManifest;
const sha = (text: string) => ({ sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) });

/** What an attacker can do: rewrite the chain of edited records and everything the manifest says, but not sign. */
function rechain(rs: ChainedEnvelope[]): ChainedEnvelope[] {
  const heads = new Map<string, { seq: number; hash: string }>();
  return rs.map((r) => {
    const { seq, prevHash, hash, ...env } = r;
    void hash;
    const head = heads.get(r.scope) ?? { seq: seq - 1, hash: prevHash };
    const h = chainHash(head.hash, env as never);
    heads.set(r.scope, { seq: head.seq + 1, hash: h });
    return { ...env, seq: head.seq + 1, prevHash: head.hash, hash: h } as ChainedEnvelope;
  });
}

const eventsText = (rs: ChainedEnvelope[]) => rs.map(ndjsonLine).join('');
const csvOf = (rs: ChainedEnvelope[]) => `${CSV_HEADER}\n${rs.map(csvText).join('')}`;

/**
 * Rewrites the bundle as an attacker who recomputes everything unsigned: the CSV from the
 * records, the file digests, and (with `recount`) the manifest's counts and per-scope hashes.
 * `sign`: keep the original signature (the attacker has no key), or re-sign with a key.
 */
function forge(files: Files, edit: { events?: (rs: ChainedEnvelope[]) => ChainedEnvelope[]; rawEvents?: (ls: string[]) => string[]; checkpoints?: (ls: string[]) => string[]; csv?: (text: string) => string }, sign: 'keep' | KeyObject, recount = true): Files {
  const out = { ...files };
  if (edit.events) {
    const rs = edit.events(records(files));
    out[F.events] = eventsText(rs);
    out[F.csv] = csvOf(rs);
  }
  if (edit.rawEvents) out[F.events] = `${edit.rawEvents(lines(files[F.events])).join('\n')}\n`;
  if (edit.checkpoints) out[F.checkpoints] = edit.checkpoints(lines(files[F.checkpoints])).map((l) => `${l}\n`).join('');
  if (edit.csv) out[F.csv] = edit.csv(out[F.csv]);
  const original = manifestOf(files);
  const { signature, ...body } = original;
  let m: BundleManifest = { ...body, files: Object.fromEntries(Object.keys(body.files).map((f) => [f, sha(out[f] ?? '')])) };
  if (recount) {
    const rs = lines(out[F.events]).flatMap((l) => {
      try {
        return [JSON.parse(l) as ChainedEnvelope];
      } catch {
        return [];
      }
    });
    const scopes: Record<string, { count: number; prevSeq: number; prevHash: string; firstHash?: string; lastHash?: string }> = {};
    for (const r of rs) {
      const s = (scopes[r.scope] ??= { count: 0, prevSeq: r.seq - 1, prevHash: r.prevHash, firstHash: r.hash });
      s.count++;
      s.lastHash = r.hash;
    }
    m = { ...m, events: rs.length, scopes, checkpoints: lines(out[F.checkpoints]).length };
  }
  out[F.manifest] = manifestText(sign === 'keep' ? { ...m, signature } : signManifest(m, sign));
  return out;
}

const problemsOf = (v: { problems: readonly { problem: string }[] }) => v.problems.map((p) => p.problem).join('\n');

describe('offline bundle verification', () => {
  const made = generateBundleInMemory({ events: 60, checkpointEvery: 7, before: 3, emptyScopes: ['group:empty'] });
  const good = made.files;
  const serverKey = made.privateKey;
  const fingerprint = fingerprintOf(made.publicKeyPem);

  it('accepts a good bundle and says how many events each signature covers', async () => {
    const v = await verifyBundle(good);
    expect(v).toMatchObject({ ok: true, events: 60, scopes: 3, trust: 'bundle', keys: [{ fingerprint }], problems: [] });
    // 20 records per scope (#4–#23): checkpoints every 7 records (#10, #17) and the export's at #23.
    const app = v.signatures.filter((s) => s.scope === 'application');
    expect(app.map((s) => [s.throughSeq, s.covers])).toEqual([
      [10, 7],
      [17, 7],
      [23, 6],
    ]);
    expect(v.perScope).toContainEqual({ scope: 'application', events: 20, firstSeq: 4, lastSeq: 23, signed: 20, unsignedTail: 0 });
    expect(v.perScope).toContainEqual({ scope: 'group:empty', events: 0, signed: 0, unsignedTail: 0 });
    expect(v.checkpoints).toBe(9);
  });

  it('pins the key: a bundle re-signed by someone else verifies only against its own key', async () => {
    const attacker = createPrivateKey(generateSigningKey().privateKeyPem);
    const other = generateBundleInMemory({ events: 30, privateKeyPem: attacker.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const unpinned = await verifyBundle(other.files);
    expect(unpinned.ok).toBe(true);
    expect(unpinned.keys[0].fingerprint).not.toBe(fingerprint);
    const pinned = await verifyBundle(other.files, { pinned: [fingerprint] });
    expect(pinned.ok).toBe(false);
    expect(pinned.problem).toMatch(/manifest.json is signed with key [0-9a-f]{64}, which is not a pinned key/);
    expect(problemsOf(pinned)).toMatch(/checkpoint .* not a pinned key/);
    expect((await verifyBundle(good, { pinned: [fingerprint.replace(/(..)(?!$)/g, '$1:').toUpperCase()] })).ok).toBe(true);
    expect((await verifyBundle(good, { pinned: [made.publicKeyPem] })).ok).toBe(true);
  });

  describe('fails, naming what is wrong, when an attacker', () => {
    const scopeOf = (rs: ChainedEnvelope[], scope: string) => rs.filter((r) => r.scope === scope);
    const cases: [string, Parameters<typeof forge>[1], RegExp][] = [
      ['edits an event', { events: (rs) => rs.map((r, i) => (i === 10 ? { ...r, type: 'Edited' } : r)) }, /line 11\) does not match its hash \(edited\)/],
      ['edits an event and rewrites the chain after it', { events: (rs) => rechain(rs.map((r, i) => (i === 10 ? { ...r, type: 'Edited' } : r))) }, /checkpoint group:7@\d+ disagrees with the record/],
      ['drops an event covered by a checkpoint', { events: (rs) => rs.filter((_, i) => i !== 9) }, /a record of scope application is missing or out of order before this one/],
      ['drops the event a checkpoint signs', { events: (rs) => rs.filter((r) => !(r.scope === 'application' && r.seq === 10)) }, /checkpoint application@\d+: the bundle holds no record at position/],
      ['drops the first events of a scope', { events: (rs) => rs.filter((r) => !(r.scope === 'group:7' && r.seq < 6)) }, /record #6 of scope group:7, but the signed manifest says the scope's records start at #4 \(records dropped at the start\?\)/],
      ['drops the last events of a scope', { events: (rs) => rs.filter((r) => !(r.scope === 'instance' && r.seq > 21)) }, /scope instance: the chain ends at hash .* the signed manifest at/],
      ['deletes a whole scope', { events: (rs) => rs.filter((r) => r.scope !== 'group:7') }, /scope group:7: the signed manifest counts 20 records in the range, the bundle holds none/],
      ['deletes a whole scope and its checkpoints', { events: (rs) => rs.filter((r) => r.scope !== 'group:7'), checkpoints: (ls) => ls.filter((l) => !l.includes('"group:7"')) }, /scope group:7: the signed manifest counts 20/],
      ['moves an event into a scope the manifest does not list', { events: (rs) => rs.map((r, i) => (i === 5 ? { ...r, scope: 'constructor' } : r)) }, /belongs to scope constructor, which the signed manifest does not list/],
      ['swaps two events', { events: (rs) => rs.map((r, i) => (i === 3 ? rs[4] : i === 4 ? rs[3] : r)) }, /out of log order/],
      ['removes checkpoints', { checkpoints: (ls) => ls.filter((l) => !l.includes('"application"')) }, /scope application: the last 20 records .* covered by no signed checkpoint/],
      ['forges a checkpoint', { checkpoints: (ls) => ls.map((l, i) => (i === 0 ? l.replace(/"count":(\d+)/, (_, n: string) => `"count":${Number(n) + 1}`) : l)) }, /checkpoint .* has an invalid signature/],
      ['edits a CSV cell', { csv: (t) => t.replace('new12@example.com', 'someone.else@example.com') }, /events.csv row \d+ does not show event .* as recorded: change_to is "someone.else@example.com", the event says "new12@example.com"/],
      ['drops a CSV row', { csv: (t) => t.split('\n').filter((_, i) => i !== 5).join('\n') }, /events.csv row 6 is for event .* where event .* was expected/],
      ['adds a CSV row at the end', { csv: (t) => `${t}x,1,2\n` }, /events.csv has 1 rows after the last event's/],
      ['adds a duplicate key to a JSON line', { rawEvents: (ls) => ls.map((l, i) => (i === 2 ? l.replace('"type":', '"type":"Other","type":') : l)) }, /line 3 has the key "type" twice in one object/],
      ['adds trailing garbage to a JSON line', { rawEvents: (ls) => ls.map((l, i) => (i === 2 ? `${l} {}` : l)) }, /line 3 is not JSON/],
      ['writes a JSON line in another form', { rawEvents: (ls) => ls.map((l, i) => (i === 2 ? l.replace(/"seq":(\d+)/, '"seq":$1.0') : l)) }, /line 3 is not in canonical form/],
    ];

    it.each(cases)('%s (manifest recomputed, signature kept)', async (_, edit, specific) => {
      const v = await verifyBundle(forge(good, edit, 'keep'));
      expect(v.ok).toBe(false);
      expect(v.problem).toMatch(/manifest.json: the signature does not match its content/);
      void specific;
    });

    it.each(cases)('%s (signed manifest kept)', async (_, edit, specific) => {
      const v = await verifyBundle(forge(good, edit, 'keep', false));
      expect(v.ok).toBe(false);
      expect(problemsOf(v)).toMatch(specific);
    });

    it.each(cases)('%s (digests re-signed by the server key: the specific check alone)', async (_, edit, specific) => {
      const v = await verifyBundle(forge(good, edit, serverKey, false));
      expect(v.ok).toBe(false);
      expect(problemsOf(v)).not.toMatch(/digest|signature does not match/);
      expect(problemsOf(v)).toMatch(specific);
    });

    it('edits an event with every count and hash recomputed: the chain, the checkpoints and the CSV still disagree', async () => {
      const edit = { events: (rs: ChainedEnvelope[]) => rechain(rs.map((r, i) => (i === 10 ? { ...r, changes: [{ path: 'userName', to: 'x' }] } : r))) };
      const v = await verifyBundle(forge(good, edit, 'keep'));
      expect(problemsOf(v)).toMatch(/signature does not match/);
      expect(problemsOf(v)).toMatch(/checkpoint group:7@\d+ disagrees/);
    });

    it('hands in a bundle of the older, unsigned format', async () => {
      const old = { ...good, [F.manifest]: JSON.stringify({ fromPosition: '1', toPosition: '9', events: 9, counts: {}, heads: {}, eventsSha256: 'x' }, null, 2) };
      expect((await verifyBundle(old)).problem).toBe('manifest.json is an unsigned manifest of an older export: export again');
    });

    it('removes a file or adds one', async () => {
      const { [F.csv]: csv, ...noCsv } = good;
      void csv;
      expect(problemsOf(await verifyBundle(noCsv))).toMatch(/events.csv is missing from the bundle/);
      expect(problemsOf(await verifyBundle({ ...good, 'notes.txt': 'x' }))).toMatch(/notes.txt is not part of the signed bundle/);
    });

    it('mentions a scope only in a signed checkpoint', async () => {
      const ghost = scopeOf(records(good), 'application');
      void ghost;
      const v = await verifyBundle(forge(good, { events: (rs) => rs.filter((r) => r.scope !== 'instance') }, serverKey, false));
      expect(problemsOf(v)).toMatch(/scope instance is named by signed checkpoint instance@\d+ but has no records in the bundle/);
    });
  });

  it('fails on an unsigned tail unless asked to allow it, and says how long it is', async () => {
    const tail = forge(good, { checkpoints: (ls) => ls.filter((l) => !(l.includes('"group:7"') && /"count":23/.test(l))) }, serverKey);
    const strict = await verifyBundle(tail);
    expect(strict.ok).toBe(false);
    expect(strict.problem).toMatch(/scope group:7: the last 6 records \(after #17\) are covered by no signed checkpoint/);
    const allowed = await verifyBundle(tail, { allowUnsignedTail: true });
    expect(allowed.ok).toBe(true);
    expect(allowed.perScope).toContainEqual(expect.objectContaining({ scope: 'group:7', signed: 14, unsignedTail: 6 }));
  });
});

describe('strict JSON', () => {
  it.each([
    ['{"a":1,"a":2}', /key "a" twice/],
    ['{"a":{"b":1,"\\u0062":2}}', /key "b" twice/],
    ['{"a":1} ', /canonical form/],
    ['{"a":1}x', /not JSON/],
    ['{"b":1,"a":2}', /canonical form/],
    ['{"a":"\\u0041"}', /canonical form/],
    ['{"a":1e2}', /canonical form/],
    ['{"a":1e400}', /cannot carry/],
  ])('refuses %s', (text, problem) => {
    const r = parseCanonicalJson(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toMatch(problem);
  });
  it('accepts canonical text', () => {
    expect(parseCanonicalJson(canonical({ b: [1, 'x', null], a: { '€': 0.5 } }))).toEqual({ ok: true, value: { a: { '€': 0.5 }, b: [1, 'x', null] } });
  });
});

describe('CSV cells', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tcmd', '\rcmd'])('neutralises %j', (v) => {
    expect(csvCell(v).replace(/^"/, '').startsWith("'")).toBe(true);
  });
});
