/**
 * Waiting in tests: for a condition, never for a length of time. Shared by the end-to-end
 * tests and the libs' specs through `@app/testing` (test code only; nothing in production imports it).
 */
export interface WaitForOptions {
  /** Give up after this long; the test fails with `what` in the message. Default 10 s. */
  readonly timeoutMs?: number;
  /** Pause between two checks. Default 10 ms. */
  readonly intervalMs?: number;
  /** What is awaited, for the message of a timeout (a function: worded when it times out). */
  readonly what?: string | (() => string);
}

/**
 * Resolves with the first truthy value `condition` returns, checking it at once and then every
 * `intervalMs`; rejects when it throws (a check may assert) or when `timeoutMs` has passed.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 10, what = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

/** Resolves once the wall clock has moved past `instant` (ms): a later timestamp is then strictly later. */
export async function clockPassed(instant: number): Promise<void> {
  await waitFor(() => Date.now() > instant, { intervalMs: 1, what: `the clock to pass ${new Date(instant).toISOString()}` });
}
