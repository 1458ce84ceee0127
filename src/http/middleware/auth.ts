import type { MiddlewareHandler } from 'hono';
import type { Sql } from '../../db/sql.js';
import { AppError } from '../../lib/errors.js';
import { authenticateApiKey } from '../../services/tenants.js';
import type { AppEnv, Caller } from '../types.js';

const CACHE_MS = 5_000;
const CACHE_LIMIT = 10_000;

/**
 * Requires `Authorization: Bearer <api key>` and names the caller's tenant.
 * Look-ups are cached in memory for a few seconds, so a revoked key stops
 * working within that time on every web process.
 */
export function requireApiKey(sql: Sql): MiddlewareHandler<AppEnv> {
  const cache = new Map<string, { caller: Caller | undefined; until: number }>();

  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const secret = match?.[1];
    if (!secret) throw new AppError('unauthorized', 'send Authorization: Bearer <api key>');

    const now = Date.now();
    let hit = cache.get(secret);
    if (!hit || hit.until < now) {
      const caller = await authenticateApiKey(sql, secret);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      hit = { caller, until: now + CACHE_MS };
      cache.set(secret, hit);
    }
    if (!hit.caller) throw new AppError('unauthorized', 'the API key is unknown or revoked');

    c.set('caller', hit.caller);
    await next();
  };
}
