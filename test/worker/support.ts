import { randomBytes } from 'node:crypto';
import { type Logger, pino } from 'pino';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Config } from '../../src/config.js';
import type { Sql } from '../../src/db/sql.js';
import { TransferQueues } from '../../src/queue/transfer-queues.js';
import { createRedis, type Redis } from '../../src/redis/connection.js';
import {
  startTransferWorkers,
  type TransferWorkerDeps,
  type TransferWorkers,
} from '../../src/worker/transfer-workers.js';
import { testConfig } from '../support/env.js';
import { connect, createWorkerDatabase, dropScratchDatabase } from './fixtures.js';

export const silentLogger: Logger = pino({ level: 'silent' });

/** A worker set running in the test process, with a pool of its own, as a process would. */
export interface InProcessWorkers {
  sql: Sql;
  application: string;
  workers: TransferWorkers;
  close(): Promise<void>;
}

export async function startInProcessWorkers(
  config: Config,
  options: Partial<Pick<TransferWorkerDeps, 'apply' | 'probe' | 'logger' | 'sweeper'>> = {},
): Promise<InProcessWorkers> {
  const application = `worker-test-${randomBytes(4).toString('hex')}`;
  const sql = connect(config, application);
  const workers = await startTransferWorkers(config, {
    sql,
    logger: options.logger ?? silentLogger,
    apply: options.apply,
    probe: options.probe,
    sweeper: options.sweeper,
  });
  return {
    sql,
    application,
    workers,
    async close() {
      await workers.close();
      await sql.end({ timeout: 5 });
    },
  };
}

/** The API's side of the queues: what accepting a transfer enqueues on. */
export interface Producer {
  redis: Redis;
  queues: TransferQueues;
  close(): Promise<void>;
}

export function createProducer(config: Config): Producer {
  const redis = createRedis(config);
  const queues = new TransferQueues(config, redis);
  return {
    redis,
    queues,
    async close() {
      await queues.close();
      await redis.quit();
    },
  };
}

/** An error the worker must treat as an outage, like a connection reset. */
export function transientError(): Error {
  return Object.assign(new Error('simulated connection reset'), { code: 'ECONNRESET' });
}

/** Outcomes of applying `amounts` one by one, in order, from `balance` with no overdraft. */
export function appliedOneByOne(balance: bigint, amounts: bigint[]): string[] {
  let left = balance;
  return amounts.map((amount) => {
    if (left - amount < 0n) return 'failed:insufficient_funds';
    left -= amount;
    return 'posted';
  });
}

export interface WorkerDatabase {
  /** The file's pool on its scratch database. */
  readonly sql: Sql;
  /** The test configuration on the scratch database, with `overrides` on top of the file's. */
  config(overrides?: Record<string, string>): Config;
  /** Runs `cleanup` after the current test (in the reverse order of tracking). */
  track(cleanup: () => Promise<unknown>): void;
  /** A worker set in this process, stopped after the test. */
  workersFor(
    config: Config,
    options?: Parameters<typeof startInProcessWorkers>[1],
  ): Promise<InProcessWorkers>;
  /** The queues' producer side, closed after the test. */
  producerFor(config: Config): Producer;
}

/**
 * A scratch database of the test file's own (workers serve every tenant of
 * their database), created before its tests and dropped after them, with
 * what each test started stopped after that test.
 */
export function useWorkerDatabase(defaults: Record<string, string> = {}): WorkerDatabase {
  let databaseUrl: string | undefined;
  let sql: Sql | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  const config = (overrides: Record<string, string> = {}) => {
    if (!databaseUrl) throw new Error('the worker database is created in beforeAll');
    return testConfig({ DATABASE_URL: databaseUrl, ...defaults, ...overrides });
  };
  const track = (cleanup: () => Promise<unknown>) => {
    cleanups.push(cleanup);
  };

  beforeAll(async () => {
    databaseUrl = await createWorkerDatabase();
    sql = connect(config());
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    if (databaseUrl) await dropScratchDatabase(databaseUrl);
  });

  return {
    get sql() {
      if (!sql) throw new Error('the worker database is created in beforeAll');
      return sql;
    },
    config,
    track,
    async workersFor(cfg, options = {}) {
      const set = await startInProcessWorkers(cfg, options);
      track(() => set.close());
      return set;
    },
    producerFor(cfg) {
      const producer = createProducer(cfg);
      track(() => producer.close());
      return producer;
    },
  };
}
