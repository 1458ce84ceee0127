import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../lib/errors.js';
import type { AppEnv } from '../types.js';

/** What a 422 says of a query parameter that a route does not take. */
export const NOT_A_PARAMETER = 'not a parameter of this route';

/**
 * For a route that takes no query parameters: any parameter answers 422
 * naming it, as a strict query schema does on the routes that take some.
 * A request without a query (every write, as a rule) costs a look at its
 * URL and no validator. Parameters without a name (`?&`, `?=1`) are not
 * parameters, as for the routes with a schema.
 */
export const noQuery: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.url.includes('?')) {
    const names = Object.keys(c.req.queries()).filter((name) => name !== '');
    if (names.length > 0) {
      throw new AppError('validation_error', 'the request has invalid fields', {
        errors: names.map((field) => ({ field, message: NOT_A_PARAMETER })),
      });
    }
  }
  await next();
};
