import type { MiddlewareHandler } from 'hono';
import type { Sql } from '../../db/sql.js';
import { AppError } from '../../lib/errors.js';
import { authenticateApiKey } from '../../services/tenants.js';
import type { ApiKeyCache } from '../api-key-cache.js';
import type { AppEnv } from '../types.js';

/**
 * Requires `Authorization: Bearer <api key>` and names the caller's tenant.
 * Look-ups go through `cache` (see `ApiKeyCache` for how soon a revoked key
 * stops working). It has no default: a cache that no one makes follow
 * revocations would keep a revoked key working for its whole lifetime.
 */
export function requireApiKey(sql: Sql, cache: ApiKeyCache): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const secret = match?.[1];
    if (!secret) {
      throw new AppError('unauthorized', 'send Authorization: Bearer <api key>', {
        challenge: 'Bearer',
      });
    }

    const caller = await cache.lookup(secret, (presented) => authenticateApiKey(sql, presented));
    if (!caller) {
      throw new AppError('unauthorized', 'the API key is unknown or revoked', {
        challenge: 'Bearer error="invalid_token"',
      });
    }

    c.set('caller', caller);
    await next();
  };
}
