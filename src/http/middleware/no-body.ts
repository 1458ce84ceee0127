import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../lib/errors.js';
import type { AppEnv } from '../types.js';

/**
 * For a POST route that takes no body: a body that names fields answers 422
 * naming each, as an unknown field of a strict body schema does, and any
 * other JSON but an empty object answers 422 too, so that a request meant
 * for another route is refused rather than carried out without what it said.
 * `jsonBody` has read and checked the body by then; an empty body is none.
 */
export const noBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const text = await c.req.bodyCache.text;
  if (text) {
    const body: unknown = JSON.parse(text);
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    const errors = isObject
      ? Object.keys(body).map((field) => ({ field, message: 'not a field' }))
      : [{ field: '(body)', message: 'this route takes no body' }];
    if (errors.length > 0) {
      throw new AppError('validation_error', 'the request has invalid fields', { errors });
    }
  }
  await next();
};
