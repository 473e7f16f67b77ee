import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintOf } from '@app/audit';
import { generateBundle } from '@app/audit/testing/bundle-generator';

const CLI = join(__dirname, '..', 'dist', 'apps', 'scimctl', 'src', 'main.js');
const EVENTS = 60_000;

/**
 * The verifier streams: a bundle far larger than the heap it is given still verifies (reading
 * its events file whole, as the verifier once did, runs out of memory under the same limit).
 * The bundle (≈ 140 MB: 60,000 events padded to 2 KB) is written by the real hash, CSV and
 * signing code.
 */
describe('audit verify in bounded memory', () => {
  let dir: string;
  let fingerprint: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-big-'));
    const fds = new Map<string, number>();
    const made = generateBundle({ events: EVENTS, checkpointEvery: 5000, padding: 1500 }, (file, text) => {
      let fd = fds.get(file);
      if (fd === undefined) fds.set(file, (fd = openSync(join(dir, file), 'w')));
      writeSync(fd, text);
    });
    for (const fd of fds.values()) closeSync(fd);
    fingerprint = fingerprintOf(made.publicKeyPem);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`verifies ${EVENTS} events with a 64 MB heap, reporting progress`, async () => {
    const child = spawn(process.execPath, ['--max-old-space-size=64', CLI, 'audit', 'verify', dir, '--key', fingerprint]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr: stderr.slice(-500) }).toMatchObject({ code: 0 });
    expect(stdout).toContain(`OK: ${EVENTS} events in 3 scopes`);
    expect(stdout).toContain(`key: pinned, SHA-256 ${fingerprint}`);
    // Not a terminal: plain lines at every tenth, with counts.
    expect(stderr).toContain(`verifying events.ndjson: 50% 30,000/60,000 events`);
  }, 120_000);
});
