import { AppError } from './errors.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]{1,255}$/;

/**
 * Reads an Idempotency-Key header value. The structured-field string form
 * `"abc"` means the same as `abc`; inside quotes, `\"` and `\\` escape.
 */
export function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    const inner = key.slice(1, -1);
    if (/(^|[^\\])"/.test(inner.replace(/\\\\/g, ''))) throw invalid();
    key = inner.replace(/\\(["\\])/g, '$1');
  }
  if (!PRINTABLE_ASCII.test(key)) throw invalid();
  return key;
}

function invalid(): AppError {
  return new AppError(
    'idempotency_key_invalid',
    'Idempotency-Key must be 1 to 255 printable ASCII characters',
  );
}
