import { ApiError } from './api-client';

/** The README's table, in one place: every exit path of the CLI goes through these. */
export const EXIT = {
  ok: 0,
  /** Not found, nobody matched, or a bundle failed verification. */
  notFound: 1,
  /** Bad flags or arguments, or input the server refused (HTTP 400, 409, 422). */
  usage: 2,
  /** The server failed (5xx) or could not be reached. */
  server: 3,
  /** The token is not valid, or its role may not do this (HTTP 401, 403). */
  notAllowed: 4,
} as const;

export class UsageError extends Error {}

/** Exit with a chosen code and one line on stderr (e.g. "refusing to overwrite"). */
export class CliFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 404 || status === 410) return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.notAllowed;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return EXIT.usage;
  return EXIT.server;
}

/** A server's error body `{status, error, detail, requestId}` (or anything else) as one line. */
export function describeHttpError(status: number, body: string): string {
  let detail = body.replace(/\s+/g, ' ').trim().slice(0, 300);
  let requestId: string | undefined;
  try {
    const parsed = JSON.parse(body) as { detail?: unknown; message?: unknown; requestId?: unknown };
    const text = parsed.detail ?? parsed.message;
    if (typeof text === 'string') detail = text;
    if (typeof parsed.requestId === 'string') requestId = parsed.requestId;
  } catch {
    // not JSON: keep the (flattened) text
  }
  const what =
    status === 401 ? 'the token is not valid (any more)' : status === 403 ? "this token's role may not do that" : status === 404 ? 'not found' : status >= 500 ? 'server error' : 'refused';
  return `${what} (HTTP ${status})${detail ? `: ${detail}` : ''}${requestId ? ` [request ${requestId}]` : ''}`;
}

/** Node's fetch wraps connection failures: `TypeError: fetch failed` with the system error (or "bad port") as cause. */
function connectionFailure(err: unknown): string | undefined {
  if (!(err instanceof TypeError) || !/fetch failed/.test(err.message)) return undefined;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const text = typeof cause?.message === 'string' ? cause.message : undefined;
  return [code, text && text !== code ? text : undefined].filter(Boolean).join(': ') || err.message;
}

/** Maps anything a command threw to an exit code and one readable line. */
export function classify(err: unknown, url?: string): { code: number; message: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message };
  if (err instanceof CliFailure) return { code: err.code, message: err.message };
  if (err instanceof ApiError) return { code: exitCodeForStatus(err.status), message: describeHttpError(err.status, err.body) };
  const unreachable = connectionFailure(err);
  if (unreachable) return { code: EXIT.server, message: `cannot reach the server${url ? ` at ${url}` : ''}: ${unreachable}` };
  const message = err instanceof Error ? err.message : String(err);
  const io = (err as { code?: unknown }).code;
  if (typeof io === 'string' && /^E[A-Z]+$/.test(io)) return { code: EXIT.usage, message: message.replace(/\s+/g, ' ') };
  return { code: EXIT.server, message: message.replace(/\s+/g, ' ') };
}
