import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { Logger } from '../logger.js';
import type { TransferQueues } from '../queue/transfer-queues.js';
import type { Redis } from '../redis/connection.js';
import type { DeliveryQueue } from '../webhooks/queue.js';
import type { ApiKeyCache } from './api-key-cache.js';
import type { InFlight } from './in-flight.js';
import type { SettledWaiters } from './long-poll.js';

/** Everything a route may use, built once per process by src/server.ts. */
export interface Deps {
  config: Config;
  sql: Sql;
  /**
   * The pool of the acceptance statements (see `createAcceptancePool`); the
   * main pool when absent.
   */
  acceptSql?: Sql;
  redis: Redis;
  queues: TransferQueues;
  /** Producer side of the webhook delivery queue, for manual retries. */
  deliveries: DeliveryQueue;
  waiters: SettledWaiters;
  /** Requests still running; the web process waits for them when it stops. */
  inFlight?: InFlight;
  /** API key look-ups, kept by the caller so that it can follow revocations. */
  apiKeys: ApiKeyCache;
  log: Logger;
  /**
   * Called when an acceptance statement has waited `DATABASE_STALL_MS` for
   * PostgreSQL; the web process exits. Without it, a stall goes unnoticed.
   */
  onStall?: (stalledMs: number) => void;
}

export interface Caller {
  tenantId: string;
  keyId: string;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    caller: Caller;
  };
}
