import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import {
  type IdempotencyScope,
  insertIdempotencyRecord,
  lockIdempotencyRecord,
  repointIdempotencyRecord,
} from '../data/idempotency.js';
import { type Sql, type TransactionSql, withTransaction } from '../db/sql.js';
import { sha256 } from '../lib/canonical-json.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../logger.js';
import { type Redis, redisKeys } from '../redis/connection.js';
import { RedisScript } from '../redis/script.js';

export type { IdempotencyScope };

export interface IdempotentRequest extends IdempotencyScope {
  fingerprint: string;
}

export interface IdempotencyDeps {
  config: Pick<Config, 'REDIS_PREFIX' | 'IDEMPOTENCY_TTL_HOURS' | 'IDEMPOTENCY_LOCK_MS'>;
  sql: Sql;
  redis: Redis;
  log: Logger;
  /**
   * Where a caller that outlives its answers (the web process, which waits
   * for this work before it closes its connections) keeps the Redis work
   * that follows a creation. Without it, `runIdempotent` waits for that work.
   */
  inFlight?: { keep(work: Promise<unknown>): void };
}

/** How one kind of resource is created, found again, and released on failure. */
export interface IdempotentOperation<T> {
  resourceType: string;
  status: number;
  load(db: Sql | TransactionSql, id: string): Promise<T | undefined>;
  /** True when the resource's outcome frees its key for a new attempt. */
  frees?(resource: T): boolean;
  /**
   * Creates the resource with the id given, in the caller's transaction.
   * `recordId` is the idempotency record's id when there is one.
   */
  create(
    tx: TransactionSql,
    id: string,
    previous: T | undefined,
    recordId: bigint | null,
  ): Promise<T>;
  newId(): string;
  /**
   * Optionally, the common case in one statement: records the key and
   * creates the resource when the key is new and the request valid, and
   * returns undefined otherwise, having recorded nothing. The full
   * transaction then runs and finds the replay, the conflict or the error.
   */
  createFirst?(sql: Sql, id: string, record: NewRecord): Promise<T | undefined>;
  /** Runs after a creation commits, alongside the cache write and the unlock. */
  afterCreate?(resource: T): Promise<void>;
  /**
   * Runs, in the same way, after a replay found in PostgreSQL rather than in
   * the cache: the request that created the resource may have ended before
   * its own `afterCreate` (a reply lost after the commit, a process gone).
   */
  afterReplay?(resource: T): Promise<void>;
}

/** What a new idempotency record holds, for `createFirst`. */
export interface NewRecord {
  scope: IdempotencyScope;
  fingerprint: string;
  resourceType: string;
  responseStatus: number;
  ttlHours: number;
}

export interface IdempotentResult<T> {
  resource: T;
  status: number;
  replayed: boolean;
}

interface CachedRecord {
  fingerprint: string;
  resourceId: string;
  status: number;
}

/**
 * Takes the mutex (KEYS[1]) for ARGV[2] ms for this request (ARGV[1]); if it
 * is ours, answers the cached record (KEYS[2]). A mutex this request already
 * holds counts as taken: ioredis sends a command again when the connection
 * dropped before its reply came, and the first send may have taken it.
 */
const ACQUIRE = new RedisScript(`
if redis.call('get', KEYS[1]) ~= ARGV[1]
  and not redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
return {1, redis.call('get', KEYS[2])}`);

/** Releases the mutex (KEYS[1]) if this request (ARGV[1]) still holds it. */
const RELEASE = new RedisScript(`
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 1`);

/** Caches the record (KEYS[2] = ARGV[2] for ARGV[3] s), then releases the mutex as RELEASE does. */
const CACHE_AND_RELEASE = new RedisScript(`
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 1`);

/**
 * Runs a create operation at most once per idempotency scope.
 *
 * Rules: a Redis mutex on (tenant, scope) is taken before anything else and
 * released only by its holder; while it is held, the same key answers 409.
 * The record is looked up in the Redis cache, then in PostgreSQL under a row
 * lock. A different fingerprint answers 422. A matching one replays the first
 * status with the resource as it is now, unless the resource's outcome frees
 * the key (a failed transfer), in which case a new attempt is created and
 * linked to the previous one. Only successful creations are recorded, in the
 * same transaction as the resource; failures leave nothing behind.
 *
 * After a creation commits, the cache write and the release of the mutex are
 * sent, and `afterCreate` runs. With `deps.inFlight` the result is answered
 * without waiting for them: a client that replays the key the instant it
 * reads the answer, through another web process, can find the mutex still
 * held and get the retryable 409.
 */
export async function runIdempotent<T>(
  deps: IdempotencyDeps,
  request: IdempotentRequest,
  operation: IdempotentOperation<T>,
): Promise<IdempotentResult<T>> {
  const scopeHash = sha256(`${request.method} ${request.path} ${request.key}`);
  const keys = redisKeys(deps.config.REDIS_PREFIX);
  const lockKey = keys.idempotencyLock(request.tenantId, scopeHash);
  const cacheKey = keys.idempotencyCache(request.tenantId, scopeHash);
  const token = randomUUID();

  const acquired = await redisCall(() =>
    ACQUIRE.runInTurn(deps.redis, [lockKey, cacheKey], [token, deps.config.IDEMPOTENCY_LOCK_MS]),
  );
  if (!Array.isArray(acquired)) {
    throw new AppError(
      'idempotency_key_in_flight',
      'a request with this Idempotency-Key is still being processed; retry shortly',
      { retryable: true },
    );
  }
  const cachedRaw: unknown = acquired[1];

  const release = () =>
    RELEASE.runInTurn(deps.redis, [lockKey], [token]).then(
      () => undefined,
      (error: unknown) => {
        deps.log.warn({ err: error }, 'could not release an idempotency lock; it will expire');
      },
    );

  let result: IdempotentResult<T> & { resourceId: string; expiresAt: Date };
  try {
    const cached = parseCached(cachedRaw);
    const replay = cached && (await replayFromCache(deps, request, operation, cached));
    if (replay) {
      await release();
      return replay;
    }
    result =
      (await createFirst(deps, request, operation)) ??
      (await createOrReplay(deps, request, operation));
  } catch (error) {
    await release();
    throw error;
  }
  const followUp = Promise.all([
    result.replayed
      ? operation.afterReplay?.(result.resource)
      : operation.afterCreate?.(result.resource),
    cacheAndRelease(deps, { lockKey, cacheKey, token }, request.fingerprint, result),
  ]);
  // The answer does not wait for this work: the resource is durable, and each
  // step logs its own failure. The cache write and the release go out at the
  // end of this turn of the event loop, before this process reads the
  // client's next request.
  if (deps.inFlight) deps.inFlight.keep(followUp);
  else await followUp;
  return result;
}

async function createFirst<T>(
  deps: IdempotencyDeps,
  request: IdempotentRequest,
  operation: IdempotentOperation<T>,
): Promise<(IdempotentResult<T> & { resourceId: string; expiresAt: Date }) | undefined> {
  if (!operation.createFirst) return undefined;
  const id = operation.newId();
  const ttlHours = deps.config.IDEMPOTENCY_TTL_HOURS;
  const resource = await operation.createFirst(deps.sql, id, {
    scope: request,
    fingerprint: request.fingerprint,
    resourceType: operation.resourceType,
    responseStatus: operation.status,
    ttlHours,
  });
  if (resource === undefined) return undefined;
  const expiresAt = new Date(Date.now() + ttlHours * 3_600_000);
  return { resource, status: operation.status, replayed: false, resourceId: id, expiresAt };
}

async function replayFromCache<T>(
  deps: IdempotencyDeps,
  request: IdempotentRequest,
  operation: IdempotentOperation<T>,
  cached: CachedRecord,
): Promise<IdempotentResult<T> | undefined> {
  if (cached.fingerprint !== request.fingerprint) throw reused();
  const resource = await operation.load(deps.sql, cached.resourceId);
  if (!resource || operation.frees?.(resource)) return undefined;
  return { resource, status: cached.status, replayed: true };
}

async function createOrReplay<T>(
  deps: IdempotencyDeps,
  request: IdempotentRequest,
  operation: IdempotentOperation<T>,
): Promise<IdempotentResult<T> & { resourceId: string; expiresAt: Date }> {
  const ttl = deps.config.IDEMPOTENCY_TTL_HOURS;
  for (;;) {
    const outcome = await withTransaction(deps.sql, async (tx) => {
      const record = await lockIdempotencyRecord(tx, request);
      if (record) {
        if (record.fingerprint !== request.fingerprint) throw reused();
        const existing = await operation.load(tx, record.resourceId);
        if (existing && !operation.frees?.(existing)) {
          return {
            resource: existing,
            status: record.responseStatus,
            replayed: true,
            resourceId: record.resourceId,
            expiresAt: record.expiresAt,
          };
        }
        const id = operation.newId();
        const resource = await operation.create(tx, id, existing, record.id);
        const repointed = await repointIdempotencyRecord(tx, record.id, id, ttl);
        return {
          resource,
          status: operation.status,
          replayed: false,
          resourceId: id,
          expiresAt: repointed.expiresAt,
        };
      }
      const id = operation.newId();
      const inserted = await insertIdempotencyRecord(
        tx,
        request,
        {
          fingerprint: request.fingerprint,
          resourceType: operation.resourceType,
          resourceId: id,
          responseStatus: operation.status,
        },
        ttl,
      );
      // A concurrent request got the key first (its mutex had lapsed): go
      // round again and find its record.
      if (!inserted) return undefined;
      const resource = await operation.create(tx, id, undefined, inserted.id);
      return {
        resource,
        status: operation.status,
        replayed: false,
        resourceId: id,
        expiresAt: inserted.expiresAt,
      };
    });
    if (outcome) return outcome;
  }
}

function parseCached(raw: unknown): CachedRecord | undefined {
  if (typeof raw !== 'string' || !raw) return undefined;
  try {
    return JSON.parse(raw) as CachedRecord;
  } catch {
    return undefined;
  }
}

/**
 * Caches the record and releases the mutex in one script. The cache only
 * saves a database look-up (PostgreSQL holds the record), and a mutex left
 * behind expires, so a failure here is logged, not answered.
 */
async function cacheAndRelease(
  deps: IdempotencyDeps,
  keys: { lockKey: string; cacheKey: string; token: string },
  fingerprint: string,
  result: { status: number; resourceId: string; expiresAt: Date },
): Promise<void> {
  const seconds = Math.max(1, Math.floor((result.expiresAt.getTime() - Date.now()) / 1000));
  const value: CachedRecord = { fingerprint, resourceId: result.resourceId, status: result.status };
  await CACHE_AND_RELEASE.runInTurn(
    deps.redis,
    [keys.lockKey, keys.cacheKey],
    [keys.token, JSON.stringify(value), seconds],
  ).catch((error: unknown) => {
    deps.log.warn({ err: error }, 'could not cache an idempotency record or release its lock');
  });
}

async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new AppError('unavailable', 'the request store is unavailable; try again', {
      retryable: true,
      cause: error,
    });
  }
}

function reused(): AppError {
  return new AppError(
    'idempotency_key_reused',
    'this Idempotency-Key was already used with a different request body',
  );
}
