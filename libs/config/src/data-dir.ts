import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './app-config';

/**
 * Creates DATA_DIR when missing and proves it can hold the store (a probe file is created
 * and removed), so a read-only or wrong path is one clear line at start, like any other bad
 * setting, not a stack trace from the database driver later.
 */
export function assertUsableDataDir(dir: string): void {
  const problem = (why: string) => new ConfigError([`DATA_DIR ${dir} ${why}`]);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw problem(`cannot be created (${describe(err)})`);
  }
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw problem(`cannot be read (${describe(err)})`);
  }
  if (!isDir) throw problem('is not a directory');
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
  } catch (err) {
    throw problem(`is not writable (${describe(err)})`);
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOTDIR: 'a parent is not a directory',
    EEXIST: 'a file of that name exists',
    ENOSPC: 'no space left on the device',
  };
  return e?.code ? `${e.code}: ${reasons[e.code] ?? 'error'}` : String(e?.message ?? err);
}
