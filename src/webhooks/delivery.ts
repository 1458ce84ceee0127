import type { Config } from '../config.js';
import { appendEvents, type EventRow, findEventById } from '../data/events.js';
import {
  type DeliveryNext,
  type DisabledReason,
  disableEndpointRow,
  type EndpointRow,
  failDeliveryWithoutAttempt,
  findDelivery,
  findEndpointById,
  noteEndpointFailure,
  noteEndpointSuccess,
  recordAttemptRow,
} from '../data/webhooks.js';
import { type Sql, type TransactionSql, withTransaction } from '../db/sql.js';
import type { Logger } from '../logger.js';
import type { DeliveryJobData, DeliveryQueue } from './queue.js';
import { nextRetryDelayMs, parseRetryAfter } from './schedule.js';
import { type SendResult, sendWebhook } from './send.js';
import type { SendShares } from './send-shares.js';
import { signatureHeader } from './signing.js';
import { resolveSafeUrl } from './url-safety.js';
import { endpointView } from './views.js';

export type DeliveryConfig = Pick<
  Config,
  | 'WEBHOOK_ALLOW_PRIVATE_URLS'
  | 'WEBHOOK_TIMEOUT_MS'
  | 'WEBHOOK_RETRY_SCHEDULE_MS'
  | 'WEBHOOK_RETRY_AFTER_MAX_MS'
  | 'WEBHOOK_DISABLE_AFTER_MS'
>;

export interface DeliveryContext {
  config: DeliveryConfig;
  sql: Sql;
  queue: DeliveryQueue;
  logger: Logger;
  /** This process's requests in flight per tenant; without it, no tenant is limited. */
  shares?: SendShares;
}

export type AttemptSummary =
  /** Nothing to do: the delivery is gone, finished, or past this attempt. */
  | { outcome: 'stale' }
  /** The tenant has its share of requests in flight here: try again in `postponeMs`. */
  | { outcome: 'postponed'; endpointId: string; postponeMs: number }
  /** The endpoint was disabled or deleted; the delivery failed without a request. */
  | { outcome: 'endpoint_disabled'; eventId: string; endpointId: string }
  | {
      outcome: 'succeeded' | 'retry' | 'failed' | 'not_recorded';
      eventId: string;
      endpointId: string;
      statusCode: number | null;
      durationMs: number;
      error: string | null;
      nextAttemptInMs: number | null;
      endpointDisabled: DisabledReason | null;
    };

/** Statuses whose Retry-After header sets the earliest next attempt. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/**
 * Makes one attempt of a delivery and records it.
 *
 * Rules: a job is stale unless its delivery is pending and waiting for
 * exactly this attempt number; a stale job does nothing. A disabled or
 * deleted endpoint ends the delivery as failed without a request. The URL is
 * checked again (DNS may have changed); a refused one is a failed attempt.
 * Any 2xx succeeds. 410 fails the delivery and disables the endpoint. Any
 * other answer, a timeout or a connection error is retried on the schedule,
 * no sooner than a 429's or 503's Retry-After; once the schedule is used up
 * the delivery fails and is kept. A failing streak as long as
 * WEBHOOK_DISABLE_AFTER_MS disables the endpoint. Disabling records an
 * `endpoint.disabled` event in the same transaction.
 *
 * The request goes out before anything is written, so a process that dies
 * in between sends the same attempt again when the job is re-run: delivery
 * is at least once, with the same `webhook-id` every time.
 */
export async function attemptDelivery(
  context: DeliveryContext,
  job: DeliveryJobData,
): Promise<AttemptSummary> {
  const delivery = await findDelivery(context.sql, job.deliveryId);
  if (delivery?.status !== 'pending' || delivery.attempts !== job.attempt - 1) {
    return { outcome: 'stale' };
  }
  const [endpoint, event] = await Promise.all([
    findEndpointById(context.sql, delivery.endpointId),
    findEventById(context.sql, delivery.eventId),
  ]);
  if (!endpoint || !event) throw new Error(`delivery ${delivery.id} lost its endpoint or event`);
  if (!endpoint.enabled || endpoint.deletedAt !== null) {
    await failDeliveryWithoutAttempt(context.sql, delivery.id, 'endpoint_disabled');
    return { outcome: 'endpoint_disabled', eventId: event.id, endpointId: endpoint.id };
  }

  const share = await context.shares?.take(endpoint.tenantId);
  if (share && 'postponeMs' in share) {
    return { outcome: 'postponed', endpointId: endpoint.id, postponeMs: share.postponeMs };
  }
  const startedAt = new Date();
  let result: SendResult;
  try {
    result = await send(context.config, endpoint, event);
  } finally {
    share?.release();
  }
  const decision = decide(context.config, job.attempt, result);

  const recorded = await record(context, { job, endpoint, startedAt, result, decision });

  const summary = {
    eventId: event.id,
    endpointId: endpoint.id,
    statusCode: result.statusCode,
    durationMs: result.durationMs,
    error: result.error,
    endpointDisabled: recorded.disabled,
  };
  if (!recorded.stored) return { outcome: 'not_recorded', nextAttemptInMs: null, ...summary };
  if (recorded.next.status !== 'pending') {
    return { outcome: recorded.next.status, nextAttemptInMs: null, ...summary };
  }

  const delayMs = Math.max(0, recorded.next.nextAttemptAt.getTime() - Date.now());
  await context.queue
    .enqueue({ deliveryId: delivery.id, attempt: job.attempt + 1, manual: false }, delayMs)
    .catch((error: unknown) => {
      // The delivery is pending in PostgreSQL; the sweeper adds the job later.
      context.logger.warn({ err: error, deliveryId: delivery.id }, 'could not enqueue a retry');
    });
  return { outcome: 'retry', nextAttemptInMs: delayMs, ...summary };
}

interface AttemptOutcome {
  job: DeliveryJobData;
  endpoint: EndpointRow;
  startedAt: Date;
  result: SendResult;
  decision: Decision;
}

interface Recorded {
  stored: boolean;
  next: DeliveryNext;
  disabled: DisabledReason | null;
}

/**
 * Stores an attempt and its consequences in one transaction: the delivery's
 * next state, the endpoint's failing streak, and, when the endpoint is
 * disabled by it, the `endpoint.disabled` event. Nothing is written when
 * another run already recorded this attempt.
 */
async function record(context: DeliveryContext, outcome: AttemptOutcome): Promise<Recorded> {
  const { job, endpoint, result, decision } = outcome;
  return withTransaction(context.sql, async (tx) => {
    let next = decision.next;
    let disable: DisabledReason | null = decision.gone ? 'gone' : null;
    if (decision.succeeded) await noteEndpointSuccess(tx, endpoint.id);
    else {
      const limitMs = context.config.WEBHOOK_DISABLE_AFTER_MS;
      if ((await noteEndpointFailure(tx, endpoint.id, limitMs)) && !disable) {
        disable = 'failing';
        next = { status: 'failed', reason: 'endpoint_disabled' };
      }
    }

    const attempt = {
      deliveryId: job.deliveryId,
      attempt: job.attempt,
      manual: job.manual,
      startedAt: outcome.startedAt,
      durationMs: result.durationMs,
      succeeded: decision.succeeded,
      statusCode: result.statusCode,
      error: result.error,
      responseBody: result.responseBody,
    };
    if (!(await recordAttemptRow(tx, attempt, next)))
      return { stored: false, next, disabled: null };
    const disabled = disable ? await disableEndpoint(tx, endpoint, disable) : null;
    return { stored: true, next, disabled };
  });
}

async function send(
  config: DeliveryConfig,
  endpoint: EndpointRow,
  event: EventRow,
): Promise<SendResult> {
  const started = performance.now();
  const target = await resolveSafeUrl(endpoint.url, config.WEBHOOK_ALLOW_PRIVATE_URLS);
  if (!target.ok) {
    return {
      statusCode: null,
      durationMs: Math.round(performance.now() - started),
      error: `refused: the URL ${target.reason}`,
      responseBody: null,
      retryAfter: undefined,
    };
  }

  const body = JSON.stringify({
    type: event.type,
    timestamp: event.createdAt.toISOString(),
    data: event.data,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  return sendWebhook({
    url: target.url,
    pinned: target.pinned,
    body,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    headers: {
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(liveSecrets(endpoint), event.id, timestamp, body),
    },
  });
}

/** The secrets that sign now: the current one, and the previous one while it overlaps. */
export function liveSecrets(endpoint: EndpointRow, now = new Date()): string[] {
  const previous = endpoint.previousSecret;
  const until = endpoint.previousSecretExpiresAt;
  if (previous !== null && until !== null && until > now) return [endpoint.secret, previous];
  return [endpoint.secret];
}

interface Decision {
  succeeded: boolean;
  gone: boolean;
  next: DeliveryNext;
}

function decide(config: DeliveryConfig, attempt: number, result: SendResult): Decision {
  const status = result.statusCode;
  if (status !== null && status >= 200 && status < 300) {
    return { succeeded: true, gone: false, next: { status: 'succeeded' } };
  }
  if (status === 410) {
    return { succeeded: false, gone: true, next: { status: 'failed', reason: 'endpoint_gone' } };
  }
  const retryAfterMs =
    status !== null && RETRY_AFTER_STATUSES.has(status)
      ? parseRetryAfter(result.retryAfter)
      : undefined;
  const delayMs = nextRetryDelayMs(
    {
      scheduleMs: config.WEBHOOK_RETRY_SCHEDULE_MS,
      retryAfterMaxMs: config.WEBHOOK_RETRY_AFTER_MAX_MS,
    },
    attempt,
    retryAfterMs,
  );
  const next: DeliveryNext =
    delayMs === undefined
      ? { status: 'failed', reason: 'attempts_exhausted' }
      : { status: 'pending', nextAttemptAt: new Date(Date.now() + delayMs) };
  return { succeeded: false, gone: false, next };
}

async function disableEndpoint(
  tx: TransactionSql,
  endpoint: EndpointRow,
  reason: DisabledReason,
): Promise<DisabledReason | null> {
  const disabled = await disableEndpointRow(tx, endpoint.id, reason);
  if (!disabled) return null;
  await appendEvents(tx, endpoint.tenantId, [
    { type: 'endpoint.disabled', data: endpointView(disabled) },
  ]);
  return reason;
}
