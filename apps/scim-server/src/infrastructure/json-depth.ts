/**
 * Deepest nesting any request body may have. SCIM's deepest legitimate body is a Bulk
 * operation carrying an extension's complex attribute (about 6 levels); management bodies are
 * flat. Deeper bodies are refused before parsing: code that walks a body recursively
 * (validation, bulkId substitution, attribute copying) could otherwise run out of stack.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON text nests arrays/objects deeper than `max`. One pass over the characters, no
 * recursion and no allocation, so it costs less than the parse it guards; brackets inside
 * strings do not count. Malformed text is left for the parser to refuse.
 */
export function jsonNestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
