import { DelayedError, type Job, Worker } from 'bullmq';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { errorLog } from '../lib/error-log.js';
import type { Logger } from '../logger.js';
import { WEBHOOK_QUEUE_NAME } from '../queue/partitions.js';
import { closeRedis, createRedis, cutRedis, redisAnswers } from '../redis/connection.js';
import { type AttemptSummary, attemptDelivery, type DeliveryContext } from './delivery.js';
import { type Dispatcher, startDispatcher } from './dispatcher.js';
import { type DeliveryJobData, DeliveryQueue } from './queue.js';
import { SendShares } from './send-shares.js';
import { startWebhookSweeper, type WebhookSweeper } from './sweeper.js';

export interface WebhookRuntimeDeps {
  sql: Sql;
  logger: Logger;
}

export interface WebhookRuntime {
  queue: DeliveryQueue;
  dispatcher: Dispatcher;
  /**
   * Stops dispatching and sweeping, lets the attempts in hand finish, and
   * closes Redis. The caller owns `sql` and ends it afterwards.
   */
  close(): Promise<void>;
}

/**
 * Everything the webhooks process runs: the outbox dispatcher, the delivery
 * worker (WEBHOOK_CONCURRENCY attempts at a time) and the delivery sweeper.
 */
export async function startWebhookRuntime(
  config: Config,
  deps: WebhookRuntimeDeps,
): Promise<WebhookRuntime> {
  const workerRedis = createRedis(config, {
    blocking: true,
    name: 'webhooks-worker',
    log: deps.logger,
  });
  const queueRedis = createRedis(config, { name: 'webhooks-queue', log: deps.logger });
  const subscriber = createRedis(config, {
    blocking: true,
    name: 'webhooks-settled',
    log: deps.logger,
  });
  const connections = [workerRedis, queueRedis, subscriber];
  const queue = new DeliveryQueue(config, queueRedis, deps.logger);
  const context: DeliveryContext = {
    config,
    sql: deps.sql,
    queue,
    logger: deps.logger,
    shares: SendShares.forConcurrency(config.WEBHOOK_CONCURRENCY, config.WEBHOOK_TIMEOUT_MS),
  };

  let dispatcher: Dispatcher;
  try {
    dispatcher = await startDispatcher(
      { config, sql: deps.sql, queue, logger: deps.logger },
      subscriber,
    );
  } catch (error) {
    await queue.close();
    await closeRedis(connections);
    throw error;
  }

  const worker = new Worker<DeliveryJobData>(
    WEBHOOK_QUEUE_NAME,
    (job, token) => runJob(context, job, token),
    {
      connection: workerRedis,
      prefix: config.REDIS_PREFIX,
      concurrency: config.WEBHOOK_CONCURRENCY,
      lockDuration: config.WEBHOOK_JOB_LOCK_MS,
      stalledInterval: Math.max(500, Math.floor(config.WEBHOOK_JOB_LOCK_MS / 2)),
      // A job whose process died is run again; past this many times it fails
      // and the sweeper retries it.
      maxStalledCount: 3,
    },
  );
  worker.on('error', errorLog(deps.logger, {}, 'delivery queue error').report);
  const sweeper: WebhookSweeper = startWebhookSweeper({
    config,
    sql: deps.sql,
    queue,
    logger: deps.logger,
  });

  return {
    queue,
    dispatcher,
    async close() {
      // As for transfer workers: with Redis away, or not answering, cut it
      // first, so that nothing below waits for its replies, and let go of the
      // jobs in hand.
      const away = !(await redisAnswers(queueRedis));
      if (away) cutRedis(connections);
      await dispatcher.stop();
      await sweeper.stop();
      await worker.close(away);
      await queue.close();
      await closeRedis(connections);
    },
  };
}

/**
 * Runs one attempt and writes its one log line; the secret is never part of
 * it. An attempt whose tenant has its share of requests in flight is put
 * back as a delayed job, not counted as an attempt (see `SendShares`).
 */
async function runJob(
  context: DeliveryContext,
  job: Job<DeliveryJobData>,
  token: string | undefined,
): Promise<void> {
  const fields = {
    jobId: job.id,
    deliveryId: job.data.deliveryId,
    attempt: job.data.attempt,
    manual: job.data.manual,
  };
  let summary: AttemptSummary;
  try {
    summary = await attemptDelivery(context, job.data);
  } catch (error) {
    context.logger.warn({ ...fields, outcome: 'error', err: error }, 'delivery attempt');
    throw error;
  }
  if (summary.outcome === 'postponed') {
    context.logger.debug({ ...fields, ...summary }, 'delivery attempt');
    const delayMs = summary.postponeMs * (0.75 + Math.random() / 2);
    await job.moveToDelayed(Date.now() + delayMs, token);
    // Tells BullMQ that the job was moved, not finished or failed.
    throw new DelayedError();
  }
  const disabled = 'endpointDisabled' in summary && summary.endpointDisabled !== null;
  const level = summary.outcome === 'failed' || disabled ? 'warn' : 'info';
  context.logger[level]({ ...fields, ...summary }, 'delivery attempt');
}
