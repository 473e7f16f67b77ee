import { statfsSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';

/** SQLite and the OS saying the disk (or the database's size limit) is full. */
export function isStoreFull(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code === 'ENOSPC' || code.startsWith('SQLITE_IOERR'));
}

/**
 * Whether the store can write. A write that failed for lack of space marks it full; it is
 * writable again once the file system has room (checked on every readiness probe), so the
 * instance comes back by itself when space returns. Writes are never refused in advance:
 * each is tried, and SQLite rolls back any that cannot be made durable.
 */
@Injectable()
export class StoreSpace {
  private fullSince?: Date;
  private lastError?: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  noteFailure(err: unknown): void {
    if (!isStoreFull(err)) return;
    this.fullSince ??= new Date();
    this.lastError = (err as { code: string }).code;
  }

  /** Free bytes where the store lives, or undefined when the file system cannot tell. */
  freeBytes(): number | undefined {
    try {
      const s = statfsSync(this.config.dataDir);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      return undefined;
    }
  }

  status(): { writable: true; freeBytes?: number } | { writable: false; since: string; error: string; freeBytes?: number } {
    const free = this.freeBytes();
    if (this.fullSince && (free === undefined || free >= MIN_FREE_BYTES)) this.fullSince = undefined;
    if (!this.fullSince && free !== undefined && free < FULL_BYTES) {
      this.fullSince = new Date();
      this.lastError = 'ENOSPC';
    }
    if (!this.fullSince) return { writable: true, ...(free !== undefined ? { freeBytes: free } : {}) };
    return { writable: false, since: this.fullSince.toISOString(), error: this.lastError ?? 'SQLITE_FULL', ...(free !== undefined ? { freeBytes: free } : {}) };
  }
}

/** Room the store needs before a failed write is worth trying again (a WAL rewind's worth). */
const MIN_FREE_BYTES = 1024 * 1024;
/** Below this the disk is full for any practical write, failed or not. */
const FULL_BYTES = 64 * 1024;
