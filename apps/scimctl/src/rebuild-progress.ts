import type { ApiClient } from './api-client';
import { Progress } from './progress';

/**
 * Runs alongside the rebuild request: the server answers only when the rebuild is done, but
 * GET /api/v1/projections reports how far it has read meanwhile. All projections being
 * rebuilt share one pass over the log, so one bar covers them.
 */
export async function withRebuildProgress<T>(
  api: Pick<ApiClient, 'call'>,
  name: string | undefined,
  rebuild: Promise<T>,
  out: NodeJS.WriteStream = process.stderr,
  intervalMs = 250,
): Promise<T> {
  let done = false;
  let bar: Progress | undefined;
  let total = 0;
  let position = 0;
  const settled = rebuild.finally(() => (done = true));
  const poll = async () => {
    while (!done) {
      const status = await api.call<{ name: string; rebuilding?: { position: string; head: string } }[]>('GET', '/api/v1/projections').catch(() => []);
      const r = status.find((p) => p.rebuilding && (name === undefined || p.name === name))?.rebuilding;
      // Before the first page is read the server reports -1.
      if (!done && r && Number(r.head) > 0) {
        total = Number(r.head);
        bar ??= new Progress(`rebuilding ${name ?? 'all projections'}`, total, 'events', out);
        position = Math.max(0, Number(r.position));
        bar.update(position);
      }
      await Promise.race([settled.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, intervalMs))]);
    }
  };
  const polling = poll();
  try {
    const result = await settled;
    bar?.finish(total);
    return result;
  } catch (err) {
    bar?.finish(position);
    throw err;
  } finally {
    await polling;
  }
}
