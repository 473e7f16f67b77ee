import { WrongExpectedRevisionError } from '@app/event-store';
import { PreconditionFailed } from './errors';

/** The stream a command's `If-Match` names, and the revision it named (absent: no precondition). */
export interface Precondition {
  readonly streamId: string;
  readonly ifMatch?: bigint;
}

export interface CommandAttempt {
  /** Call with the revision just loaded; refuses with 412 when `If-Match` named another one. */
  checkPrecondition(loadedRevision: bigint): void;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface RunOptions {
  readonly maxAttempts?: number;
  /** Waits between attempts; tests pass one that does not wait. */
  readonly pause?: (attempt: number) => Promise<void>;
}

const MAX_ATTEMPTS = 25;

// Jitter spreads racing writers apart so they stop colliding.
const jitter = (attempt: number) => new Promise<void>((r) => setTimeout(r, Math.random() * Math.min(2 ** attempt, 50)));

/**
 * Load → decide → append, once more from a fresh load whenever another writer appended to a
 * stream first (optimistic concurrency). The one place `If-Match` becomes 412: a precondition
 * that names a revision fails when the loaded revision differs, and a concurrent write to the
 * named stream is a 412 rather than a retry — the client's version is no longer current.
 * Conflicts on other streams (a reservation, a member's account) are retried: the client
 * named no version of them.
 */
export async function runCommand<T>(
  precondition: Precondition | undefined,
  attempt: (run: CommandAttempt) => Promise<T>,
  options: RunOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  const pause = options.pause ?? jitter;
  const ifMatch = precondition?.ifMatch;
  const checkPrecondition = (loadedRevision: bigint) => {
    if (ifMatch !== undefined && ifMatch !== loadedRevision) throw new PreconditionFailed();
  };
  for (let n = 1; ; n++) {
    try {
      return await attempt({ checkPrecondition, attempt: n });
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err;
      if (ifMatch !== undefined && err.streamId === precondition?.streamId) throw new PreconditionFailed();
      if (n >= maxAttempts) throw err;
      await pause(n);
    }
  }
}
