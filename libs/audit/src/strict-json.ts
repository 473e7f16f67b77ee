import { canonical } from './hash-chain';

export type StrictJson = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Parses one JSON text that must be exactly the RFC 8785 canonical form of its value, as every
 * JSON text of an audit bundle is written. JSON.parse (V8: fast, correct) reads the value, and
 * the round trip `canonical(value) === text` refuses everything a lenient parser would let
 * through: duplicate keys (JSON.parse keeps the last one silently), whitespace and trailing
 * garbage, other escapes, number spellings (`1.0`, `1e2`), key order. A library that flags
 * duplicate keys would still accept the other forms, so the round trip is the check, and the
 * small scanner below only runs on failure, to name what is wrong.
 */
export function parseCanonicalJson(text: string): StrictJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `is not JSON (${(e as Error).message})` };
  }
  let again: string;
  try {
    again = canonical(value);
  } catch (e) {
    return { ok: false, problem: `holds a value JSON cannot carry exactly (${(e as Error).message})` };
  }
  if (again === text) return { ok: true, value };
  const duplicate = duplicateKey(text);
  if (duplicate !== undefined) return { ok: false, problem: `has the key ${JSON.stringify(duplicate)} twice in one object` };
  const at = firstDifference(again, text);
  return { ok: false, problem: `is not in canonical form (RFC 8785) from character ${at + 1}: ${JSON.stringify(text.slice(at, at + 24))}` };
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The first key that appears twice in one object of a JSON text JSON.parse accepted. */
export function duplicateKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return undefined;
}
