import type { Config } from '../config.js';
import {
  type DueDelivery,
  findOverdueDeliveries,
  tryLockWebhookSweeper,
} from '../data/webhooks.js';
import { type Sql, withTransaction } from '../db/sql.js';
import { errorLog } from '../lib/error-log.js';
import { type Periodic, runPeriodically } from '../lib/periodic.js';
import type { Logger } from '../logger.js';
import { ensureLiveJob, repairAll } from '../queue/job-repair.js';
import { type DeliveryQueue, deliveryJobId } from './queue.js';

const OVERDUE_LIMIT = 1_000;

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
    const repairs = await repairAll(
      overdue,
      (delivery) => ensureDeliveryJob(deps.queue, delivery),
      (delivery, error) =>
        deps.logger.warn({ err: error, deliveryId: delivery.id }, 'sweeper could not repair a job'),
    );
    return {
      overdue: overdue.length,
      ...repairs,
    };
  });
}

function ensureDeliveryJob(queue: DeliveryQueue, delivery: DueDelivery) {
  const attempt = delivery.attempts + 1;
  const data = { deliveryId: delivery.id, attempt, manual: false };
  // A delivery's job has its own id and no deduplication: an add always adds.
  return ensureLiveJob(queue.queue, deliveryJobId(delivery.id, attempt), () =>
    queue.enqueue(data).then(() => true),
  );
}

export type WebhookSweeper = Periodic;

/** Runs `sweepDeliveriesOnce` every SWEEPER_INTERVAL_MS until stopped; failures are logged. */
export function startWebhookSweeper(deps: WebhookSweeperDeps): WebhookSweeper {
  const failures = errorLog(deps.logger, {}, 'delivery sweep failed');
  const pass = async () => {
    try {
      const result = await sweepDeliveriesOnce(deps);
      if (result && result.enqueued + result.retried + result.errors > 0) {
        deps.logger.info(result, 'delivery sweep');
      }
    } catch (error) {
      failures.report(error);
    }
  };
  return runPeriodically(deps.config.SWEEPER_INTERVAL_MS, pass);
}
