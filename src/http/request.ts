import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { Page } from '../data/pagination.js';
import { fingerprint } from '../lib/canonical-json.js';
import { AppError } from '../lib/errors.js';
import { parseIdempotencyKey } from '../lib/idempotency-key.js';
import type { Actor } from '../services/accounts.js';
import type { IdempotentRequest } from '../services/idempotency.js';
import type { AppEnv } from './types.js';

export function actorOf(c: Context<AppEnv>): Actor {
  const caller = c.get('caller');
  return { tenantId: caller.tenantId, keyId: caller.keyId, requestId: c.get('requestId') };
}

/**
 * The idempotency scope of a POST: tenant, method, route path and key, with
 * the fingerprint of its validated body (defaults filled in, so that leaving a
 * field out and sending its default mean the same). Undefined when the key is
 * optional and absent.
 */
export function idempotentRequest(
  c: Context<AppEnv>,
  path: string,
  options: { required: boolean; body: unknown },
): IdempotentRequest | undefined {
  const key = parseIdempotencyKey(idempotencyKeyHeader(c));
  if (key === undefined) {
    if (!options.required) return undefined;
    throw new AppError('idempotency_key_missing', 'send an Idempotency-Key header');
  }
  return {
    tenantId: c.get('caller').tenantId,
    method: c.req.method,
    path,
    key,
    fingerprint: fingerprint(options.body),
  };
}

/**
 * The Idempotency-Key header. Sent more than once, its values would reach
 * the request joined by a comma, as one key that neither line gave: that is
 * refused. Only a request that came over a socket (`env.incoming`) tells.
 */
function idempotencyKeyHeader(c: Context<AppEnv>): string | undefined {
  const value = c.req.header('idempotency-key');
  // Only a joined value holds a comma; `headersDistinct` builds every header anew.
  if (value?.includes(',')) {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if ((incoming?.headersDistinct['idempotency-key']?.length ?? 0) > 1) {
      throw new AppError('idempotency_key_invalid', 'send one Idempotency-Key header, not several');
    }
  }
  return value;
}

/** Marks an answer that repeats a stored result. */
export function markReplay(c: Context<AppEnv>, replayed: boolean): void {
  if (replayed) c.header('idempotent-replayed', 'true');
}

/**
 * Rejects a request without a valid Idempotency-Key before its body is
 * validated, so that a missing key is always reported as such.
 */
export const requireIdempotencyKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (parseIdempotencyKey(idempotencyKeyHeader(c)) === undefined) {
    throw new AppError('idempotency_key_missing', 'send an Idempotency-Key header');
  }
  await next();
};

/** A page as every list answers it: `{data, has_more, next_cursor}`. */
export function listBody<T, V>(page: Page<T>, view: (row: T) => V) {
  return { data: page.data.map(view), has_more: page.hasMore, next_cursor: page.nextCursor };
}
