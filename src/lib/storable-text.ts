// NUL and unpaired UTF-16 surrogates cannot be stored in PostgreSQL text or
// jsonb; the `u` flag makes a well-formed surrogate pair one code point, so
// only unpaired halves match.
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/** True when PostgreSQL can store the string as text. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value);
}

/**
 * The path (`metadata.note`, `(key) metadata`) of the first string in a
 * parsed JSON value, key or value, that PostgreSQL could not store.
 */
export function findUnstorableText(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : path || '(body)';
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableText(item, path ? `${path}.${index}` : String(index));
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (!isStorableText(key)) return `(key) ${path || '(body)'}`;
      const found = findUnstorableText(item, here);
      if (found) return found;
    }
  }
  return undefined;
}
