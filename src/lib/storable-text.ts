// NUL and unpaired UTF-16 surrogates cannot be stored in PostgreSQL text or
// jsonb; the `u` flag makes a well-formed surrogate pair one code point, so
// only unpaired halves match.
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/** True when PostgreSQL can store the string as text. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value);
}

export interface TextProblem {
  field: string;
  message: string;
}

/**
 * How deep a request body may nest. No field of the API nests more than a few
 * levels; a body thousands of levels deep would exhaust the stack of any
 * recursive walk over it, this one included.
 */
export const MAX_BODY_DEPTH = 32;

/**
 * The first string of a parsed JSON value, key or value, that PostgreSQL
 * could not store, a `__proto__` key, which JavaScript objects would
 * silently drop (the body stored would differ from the body sent), or a value
 * nested deeper than `MAX_BODY_DEPTH`.
 */
export function findInvalidText(value: unknown, path = '', depth = 0): TextProblem | undefined {
  const here = path || '(body)';
  if (depth > MAX_BODY_DEPTH && value !== null && typeof value === 'object') {
    return { field: here, message: `must not nest more than ${MAX_BODY_DEPTH} levels` };
  }
  if (typeof value === 'string') {
    return isStorableText(value) ? undefined : { field: here, message: UNSTORABLE };
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findInvalidText(item, path ? `${path}.${index}` : String(index), depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key)) return { field: `(key) ${here}`, message: UNSTORABLE };
      if (key === '__proto__') return { field: `(key) ${here}`, message: 'is a reserved key' };
      const found = findInvalidText(item, path ? `${path}.${key}` : key, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

const UNSTORABLE = 'must not contain NUL or unpaired surrogates';
