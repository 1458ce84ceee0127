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
 * The first string of a parsed JSON value, key or value, that PostgreSQL
 * could not store, or a `__proto__` key, which JavaScript objects would
 * silently drop (the body stored would differ from the body sent).
 */
export function findInvalidText(value: unknown, path = ''): TextProblem | undefined {
  const here = path || '(body)';
  if (typeof value === 'string') {
    return isStorableText(value) ? undefined : { field: here, message: UNSTORABLE };
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findInvalidText(item, path ? `${path}.${index}` : String(index));
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key)) return { field: `(key) ${here}`, message: UNSTORABLE };
      if (key === '__proto__') return { field: `(key) ${here}`, message: 'is a reserved key' };
      const found = findInvalidText(item, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return undefined;
}

const UNSTORABLE = 'must not contain NUL or unpaired surrogates';
