export interface Row {
  /** The row's bytes without its line break. */
  readonly bytes: Buffer;
  /** false for a last row the file ends without a line break after. */
  readonly terminated: boolean;
}

export class RowTooLong extends Error {}

const NL = 0x0a;
const QUOTE = 0x22;

/**
 * Splits a byte stream into rows, holding at most one row (and one chunk) in memory: a line of
 * NDJSON, or with `csv` a CSV record, whose line breaks inside quoted cells do not end it.
 * `onChunk` sees every byte once, in order, for the file's digest.
 */
export async function* rows(chunks: AsyncIterable<Uint8Array>, options: { csv?: boolean; maxRowBytes: number; onChunk?: (chunk: Uint8Array) => void }): AsyncGenerator<Row> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    options.onChunk?.(chunk);
    const buf = carry.length ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(NL, from);
      if (nl < 0) break;
      if (options.csv && quotes(buf, start, nl) % 2 === 1) {
        // The break lies inside a quoted cell: the record goes on.
        from = nl + 1;
        continue;
      }
      yield { bytes: buf.subarray(start, nl), terminated: true };
      start = nl + 1;
      from = start;
    }
    carry = start === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(start));
    if (carry.length > options.maxRowBytes) throw new RowTooLong(`a row is longer than ${options.maxRowBytes} bytes`);
  }
  if (carry.length) yield { bytes: carry, terminated: false };
}

function quotes(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let i = buf.indexOf(QUOTE, start);
  while (i >= 0 && i < end) {
    n++;
    i = buf.indexOf(QUOTE, i + 1);
  }
  return n;
}

/** Reads a small file whole, refusing more than `maxBytes`. */
export async function readSmall(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new RowTooLong(`larger than ${maxBytes} bytes`);
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(parts);
}
