import type { Config } from '../config.js';
import {
  claimDispatchBatch,
  type DispatchEvent,
  deleteDispatchMarkers,
  findLiveEndpoints,
  insertDeliveries,
  type NewDelivery,
} from '../data/webhooks.js';
import { type Sql, withTransaction } from '../db/sql.js';
import { errorLog } from '../lib/error-log.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../logger.js';
import { type Redis, redisKeys, subscribeWhenReady } from '../redis/connection.js';
import type { DeliveryQueue } from './queue.js';
import { firstAttemptDelayMs } from './schedule.js';

const BATCH_SIZE = 200;

export type DispatcherConfig = Pick<
  Config,
  'REDIS_PREFIX' | 'WEBHOOK_POLL_INTERVAL_MS' | 'WEBHOOK_RETRY_SCHEDULE_MS'
>;

export interface DispatcherDeps {
  config: DispatcherConfig;
  sql: Sql;
  queue: DeliveryQueue;
  logger: Logger;
}

type Endpoint = Awaited<ReturnType<typeof findLiveEndpoints>>[number];

/**
 * One batch of the outbox: turns up to BATCH_SIZE events into deliveries and
 * enqueues their first attempts. Returns how many events it took.
 *
 * Rules: an event goes to every endpoint of its tenant that, when the batch
 * runs, is enabled, not deleted, subscribed to its type (or to `*`), and was
 * created no later than the event. An endpoint registered afterwards does not
 * receive older events (`GET /v1/events` serves those), and one disabled at
 * the time misses them for good. Markers are taken with SKIP LOCKED, so any
 * number of dispatchers share the outbox, and deleted in the transaction
 * that creates the deliveries. Jobs are added after commit; if that fails the
 * deliveries are pending in PostgreSQL and the sweeper enqueues them.
 */
export async function dispatchOnce(deps: DispatcherDeps): Promise<number> {
  const firstDelayMs = firstAttemptDelayMs({
    scheduleMs: deps.config.WEBHOOK_RETRY_SCHEDULE_MS,
    retryAfterMaxMs: 0,
  });
  const { events, created } = await withTransaction(deps.sql, async (tx) => {
    const claimed = await claimDispatchBatch(tx, BATCH_SIZE);
    if (claimed.length === 0) return { events: claimed, created: [] };
    const endpoints = await findLiveEndpoints(tx, [...new Set(claimed.map((e) => e.tenantId))]);
    const dueAt = new Date(Date.now() + firstDelayMs);
    const deliveries = claimed.flatMap((event) =>
      endpoints
        .filter((endpoint) => receives(endpoint, event))
        .map(
          (endpoint): NewDelivery => ({
            id: newId('whdl'),
            tenantId: event.tenantId,
            endpointId: endpoint.id,
            eventId: event.id,
            nextAttemptAt: dueAt,
          }),
        ),
    );
    const inserted = await insertDeliveries(tx, deliveries);
    await deleteDispatchMarkers(
      tx,
      claimed.map((event) => event.id),
    );
    return { events: claimed, created: inserted };
  });

  if (created.length > 0) {
    try {
      await deps.queue.enqueueMany(
        created.map((delivery) => ({
          data: { deliveryId: delivery.id, attempt: 1, manual: false },
          delayMs: delivery.nextAttemptAt.getTime() - Date.now(),
        })),
      );
    } catch (error) {
      deps.logger.warn(
        { err: error, deliveries: created.length },
        'could not enqueue deliveries; the sweeper will',
      );
    }
  }
  if (events.length > 0) {
    deps.logger.debug({ events: events.length, deliveries: created.length }, 'dispatched');
  }
  return events.length;
}

function receives(endpoint: Endpoint, event: DispatchEvent): boolean {
  if (endpoint.tenantId !== event.tenantId) return false;
  if (endpoint.createdAt > event.createdAt) return false;
  return endpoint.eventTypes.includes('*') || endpoint.eventTypes.includes(event.type);
}

export interface Dispatcher {
  /** Runs a pass soon (coalesced with one already running). */
  wake(): void;
  /** Stops listening and polling, and waits for the pass in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `dispatchOnce` until the outbox is empty, whenever the transfer
 * worker's post-commit signal arrives and at least every
 * WEBHOOK_POLL_INTERVAL_MS. The signal only makes delivery prompt; the poll
 * finds every event whether or not a signal was seen, including events that
 * send none (an account closed, an endpoint disabled).
 */
export async function startDispatcher(
  deps: DispatcherDeps,
  subscriber: Redis,
): Promise<Dispatcher> {
  let stopped = false;
  let again = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const failures = errorLog(deps.logger, {}, 'dispatch failed; retrying at the next poll');
  const drain = async () => {
    do {
      again = false;
      try {
        while (!stopped && (await dispatchOnce(deps)) === BATCH_SIZE) {
          // A full batch: more may wait.
        }
      } catch (error) {
        failures.report(error);
      }
    } while (again && !stopped);
  };
  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain().finally(() => {
      running = undefined;
    });
  };
  const poll = () => {
    if (stopped) return;
    wake();
    timer = setTimeout(poll, deps.config.WEBHOOK_POLL_INTERVAL_MS);
  };

  const channel = redisKeys(deps.config.REDIS_PREFIX).transferSettledChannel;
  const onMessage = (received: string) => {
    if (received === channel) wake();
  };
  subscriber.on('message', onMessage);
  await subscribeWhenReady(subscriber, channel);
  poll();

  return {
    wake,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      subscriber.off('message', onMessage);
      // With Redis away the UNSUBSCRIBE would wait in the offline queue for
      // as long as Redis does; the connection is closed next anyway.
      if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => {});
      await running;
    },
  };
}
