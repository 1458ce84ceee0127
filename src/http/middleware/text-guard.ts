import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../lib/errors.js';
import { isStorableText } from '../../lib/storable-text.js';
import type { AppEnv } from '../types.js';

/**
 * Refuses paths and query strings that carry text PostgreSQL cannot store
 * (NUL, unpaired surrogates): such an id names nothing (404), such a query
 * value is invalid (422). Bodies are checked by the JSON body middleware.
 */
export const textGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isStorableText(safeDecode(c.req.path))) {
    throw new AppError('not_found', 'no such resource');
  }
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (!isStorableText(name) || values.some((value) => !isStorableText(value))) {
      throw new AppError('validation_error', 'the query has invalid characters', {
        errors: [{ field: name, message: 'must not contain NUL or unpaired surrogates' }],
      });
    }
  }
  await next();
};

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
