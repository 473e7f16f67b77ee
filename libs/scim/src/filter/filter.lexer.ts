import { ScimError } from '../scim-error';

export type Token =
  | { readonly t: 'word'; readonly v: string; readonly at: number }
  | { readonly t: 'string'; readonly v: string; readonly at: number }
  | { readonly t: 'number'; readonly v: number; readonly at: number }
  | { readonly t: '(' | ')' | '[' | ']'; readonly at: number };

const WORD = /[A-Za-z0-9_:.$-]/;

/**
 * Splits a filter into tokens. Hand-written rather than generated: the grammar is small,
 * and errors must say where the problem is without echoing the (possibly personal) input.
 */
export function tokenize(text: string, error: (detail: string) => ScimError): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ t: c, at: i });
      i++;
    } else if (c === '"') {
      const start = i;
      let j = i + 1;
      let raw = '"';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\') {
          raw += text[j] + (text[j + 1] ?? '');
          j++;
        } else {
          raw += text[j];
        }
      }
      if (j >= text.length) throw error(`unterminated string starting at position ${start + 1}`);
      raw += '"';
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw error(`invalid escape in the string starting at position ${start + 1}`);
      }
      tokens.push({ t: 'string', v: value as string, at: start });
      i = j + 1;
    } else if (WORD.test(c)) {
      const start = i;
      while (i < text.length && WORD.test(text[i])) i++;
      const word = text.slice(start, i);
      if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(word)) tokens.push({ t: 'number', v: Number(word), at: start });
      else tokens.push({ t: 'word', v: word, at: start });
    } else {
      throw error(`unexpected character at position ${i + 1}`);
    }
  }
  return tokens;
}
