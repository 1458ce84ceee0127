import type { Config } from '../config.js';
import {
  type DueDelivery,
  findOverdueDeliveries,
  tryLockWebhookSweeper,
} from '../data/webhooks.js';
import { type Sql, withTransaction } from '../db/sql.js';
import { type Periodic, runPeriodically } from '../lib/periodic.js';
import type { Logger } from '../logger.js';
import { type DeliveryQueue, deliveryJobId } from './queue.js';

const OVERDUE_LIMIT = 1_000;
const REDIS_PARALLELISM = 50;

export type WebhookSweeperConfig = Pick<Config, 'SWEEPER_INTERVAL_MS' | 'SWEEPER_PENDING_AFTER_MS'>;

export interface WebhookSweeperDeps {
  config: WebhookSweeperConfig;
  sql: Sql;
  queue: DeliveryQueue;
  logger: Logger;
}

export interface WebhookSweepResult {
  overdue: number;
  enqueued: number;
  retried: number;
  errors: number;
}

type JobRepair = 'enqueued' | 'retried' | 'present' | 'error';

/**
 * One pass of delivery recovery. Redis holds only the jobs, PostgreSQL every
 * delivery: a delivery still pending SWEEPER_PENDING_AFTER_MS after its next
 * attempt fell due has lost its job (Redis flushed or failed over, a crash
 * between commit and enqueue, a job that failed while recording). The pass
 * makes sure each such delivery has a live job for its next attempt: none is
 * added, a failed one is retried, one waiting, delayed or active is left
 * alone. Only one sweeper acts at a time (a PostgreSQL advisory lock held by
 * the pass's transaction); another returns undefined at once. Doubles are
 * harmless: the attempt number in each job lets only one of them act.
 */
export async function sweepDeliveriesOnce(
  deps: WebhookSweeperDeps,
): Promise<WebhookSweepResult | undefined> {
  return withTransaction(deps.sql, async (tx) => {
    if (!(await tryLockWebhookSweeper(tx))) return undefined;
    const overdue = await findOverdueDeliveries(
      tx,
      deps.config.SWEEPER_PENDING_AFTER_MS,
      OVERDUE_LIMIT,
    );
    const repairs: JobRepair[] = [];
    for (let start = 0; start < overdue.length; start += REDIS_PARALLELISM) {
      const slice = overdue.slice(start, start + REDIS_PARALLELISM);
      repairs.push(...(await Promise.all(slice.map((delivery) => repair(deps, delivery)))));
    }
    return {
      overdue: overdue.length,
      enqueued: repairs.filter((result) => result === 'enqueued').length,
      retried: repairs.filter((result) => result === 'retried').length,
      errors: repairs.filter((result) => result === 'error').length,
    };
  });
}

async function repair(deps: WebhookSweeperDeps, delivery: DueDelivery): Promise<JobRepair> {
  try {
    return await ensureJob(deps.queue, delivery);
  } catch (error) {
    deps.logger.warn({ err: error, deliveryId: delivery.id }, 'sweeper could not repair a job');
    return 'error';
  }
}

async function ensureJob(queue: DeliveryQueue, delivery: DueDelivery): Promise<JobRepair> {
  const attempt = delivery.attempts + 1;
  const data = { deliveryId: delivery.id, attempt, manual: false };
  const job = await queue.queue.getJob(deliveryJobId(delivery.id, attempt));
  if (!job) {
    await queue.enqueue(data);
    return 'enqueued';
  }
  const state = await job.getState();
  if (state === 'failed') {
    await job.retry('failed');
    return 'retried';
  }
  if (state === 'completed' || state === 'unknown') {
    // A finished or half-lost job blocks a new one with the same id.
    await job.remove();
    await queue.enqueue(data);
    return 'enqueued';
  }
  return 'present';
}

export type WebhookSweeper = Periodic;

/** Runs `sweepDeliveriesOnce` every SWEEPER_INTERVAL_MS until stopped; failures are logged. */
export function startWebhookSweeper(deps: WebhookSweeperDeps): WebhookSweeper {
  const pass = async () => {
    try {
      const result = await sweepDeliveriesOnce(deps);
      if (result && result.enqueued + result.retried + result.errors > 0) {
        deps.logger.info(result, 'delivery sweep');
      }
    } catch (error) {
      deps.logger.warn({ err: error }, 'delivery sweep failed');
    }
  };
  return runPeriodically(deps.config.SWEEPER_INTERVAL_MS, pass);
}
