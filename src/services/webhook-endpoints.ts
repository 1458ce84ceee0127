import type { Config } from '../config.js';
import type { Page, PageRequest } from '../data/pagination.js';
import { insertAudit } from '../data/tenants.js';
import {
  type AttemptRow,
  type DeliveryRow,
  type DeliveryStatus,
  type EndpointChanges,
  type EndpointEventType,
  type EndpointRow,
  findEndpoint,
  findEndpointDelivery,
  insertEndpoint,
  listAttempts,
  listDeliveries,
  listEndpoints,
  makeDeliveryDue,
  markEndpointDeleted,
  rotateEndpointSecretRow,
  updateEndpointRow,
} from '../data/webhooks.js';
import type { Db, Sql, TransactionSql } from '../db/sql.js';
import { AppError } from '../lib/errors.js';
import { MAX_ID_LENGTH, newId } from '../lib/ids.js';
import type { Logger } from '../logger.js';
import type { DeliveryQueue } from '../webhooks/queue.js';
import { generateSecret } from '../webhooks/signing.js';
import { resolveSafeUrl } from '../webhooks/url-safety.js';
import type { Actor } from './accounts.js';
import { type IdempotencyDeps, type IdempotentRequest, runIdempotent } from './idempotency.js';
import { pageOf } from './pages.js';

export interface WebhookServiceDeps extends IdempotencyDeps {
  config: IdempotencyDeps['config'] &
    Pick<Config, 'WEBHOOK_ALLOW_PRIVATE_URLS' | 'WEBHOOK_SECRET_OVERLAP_MS'>;
  sql: Sql;
  log: Logger;
  deliveryQueue: DeliveryQueue;
}

export interface EndpointInput {
  url: string;
  description: string | null;
  eventTypes: EndpointEventType[];
}

export interface Issued<T> {
  resource: T;
  replayed: boolean;
}

/** A subscription list without repeats; `*` alone stands for everything. */
export function normalizeEventTypes(types: EndpointEventType[]): EndpointEventType[] {
  if (types.includes('*')) return ['*'];
  return [...new Set(types)];
}

/**
 * Refuses a URL a webhook may not be sent to (422 on `url`): not https
 * (http too when private URLs are allowed), or resolving to a loopback,
 * private, link-local or metadata address unless WEBHOOK_ALLOW_PRIVATE_URLS.
 * The delivery worker checks again before every attempt.
 */
export async function assertDeliverableUrl(url: string, allowPrivate: boolean): Promise<void> {
  const check = await resolveSafeUrl(url, allowPrivate);
  if (!check.ok) {
    throw new AppError('validation_error', `the endpoint URL ${check.reason}`, {
      errors: [{ field: 'url', message: check.reason }],
    });
  }
}

/**
 * Registers an endpoint with a new `whsec_` secret. With an idempotency key
 * a repeat answers the same endpoint, but never its secret again: the secret
 * is shown once, to the request that created it.
 */
export async function createEndpoint(
  deps: WebhookServiceDeps,
  actor: Actor,
  input: EndpointInput,
  request: IdempotentRequest | undefined,
): Promise<Issued<EndpointRow>> {
  await assertDeliverableUrl(input.url, deps.config.WEBHOOK_ALLOW_PRIVATE_URLS);
  const create = async (tx: TransactionSql, id: string) => {
    const endpoint = await insertEndpoint(tx, {
      id,
      tenantId: actor.tenantId,
      url: input.url,
      description: input.description,
      eventTypes: normalizeEventTypes(input.eventTypes),
      secret: generateSecret(),
    });
    await audit(tx, actor, 'webhook_endpoint.created', endpoint.id, {
      host: new URL(input.url).host,
    });
    return endpoint;
  };
  if (!request) {
    const resource = (await deps.sql.begin((tx) => create(tx, newId('whep')))) as EndpointRow;
    return { resource, replayed: false };
  }
  const result = await runIdempotent(deps, request, {
    resourceType: 'webhook_endpoint',
    status: 201,
    newId: () => newId('whep'),
    // A deleted endpoint is still what the key created: its replay answers
    // it as it is now, rather than registering another.
    load: (db, id) => findEndpoint(db, actor.tenantId, id, { includeDeleted: true }),
    create: (tx, id) => create(tx, id),
  });
  return { resource: result.resource, replayed: result.replayed };
}

export async function getEndpoint(db: Db, tenantId: string, id: string): Promise<EndpointRow> {
  const endpoint = await findEndpoint(db, tenantId, id);
  if (!endpoint) throw endpointNotFound(id);
  return endpoint;
}

export async function pageEndpoints(
  db: Db,
  tenantId: string,
  page: PageRequest,
): Promise<Page<EndpointRow>> {
  const rows = await listEndpoints(db, tenantId, page);
  return pageOf(db, rows, page, { list: 'webhook_endpoints', scope: tenantId });
}

/**
 * Changes an endpoint's URL (checked like a new one), event types,
 * description, or whether it is enabled. Enabling an endpoint that was
 * disabled, by hand or automatically, gives it a clean slate; deliveries it
 * missed meanwhile are not sent (GET /v1/events has them).
 */
export async function updateEndpoint(
  deps: WebhookServiceDeps,
  actor: Actor,
  id: string,
  changes: EndpointChanges,
): Promise<EndpointRow> {
  if (changes.url !== undefined) {
    await assertDeliverableUrl(changes.url, deps.config.WEBHOOK_ALLOW_PRIVATE_URLS);
  }
  const normalized = {
    ...changes,
    eventTypes: changes.eventTypes && normalizeEventTypes(changes.eventTypes),
  };
  return deps.sql.begin(async (tx) => {
    const endpoint = await findEndpoint(tx, actor.tenantId, id, { forUpdate: true });
    if (!endpoint) throw endpointNotFound(id);
    const updated = await updateEndpointRow(tx, id, normalized);
    await audit(tx, actor, 'webhook_endpoint.updated', id, {
      fields: Object.keys(changes).filter(
        (key) => changes[key as keyof EndpointChanges] !== undefined,
      ),
    });
    return updated;
  }) as Promise<EndpointRow>;
}

/** Deletes an endpoint softly: it stops receiving and disappears from the API; rows stay. */
export async function deleteEndpoint(sql: Sql, actor: Actor, id: string): Promise<EndpointRow> {
  return sql.begin(async (tx) => {
    const endpoint = await findEndpoint(tx, actor.tenantId, id, { forUpdate: true });
    if (!endpoint) throw endpointNotFound(id);
    const deleted = await markEndpointDeleted(tx, id);
    await audit(tx, actor, 'webhook_endpoint.deleted', id);
    return deleted;
  }) as Promise<EndpointRow>;
}

/**
 * Issues a new secret. The one it replaces keeps signing, next to the new
 * one, for WEBHOOK_SECRET_OVERLAP_MS, so receivers can switch without losing
 * a delivery. The new secret is shown only in this answer; a repeat with the
 * same idempotency key does not rotate again and does not show it.
 */
export async function rotateEndpointSecret(
  deps: WebhookServiceDeps,
  actor: Actor,
  id: string,
  request: IdempotentRequest | undefined,
): Promise<Issued<EndpointRow>> {
  // Checked before the key is recorded, whose scope holds the path, id and all.
  if (id.length > MAX_ID_LENGTH) throw endpointNotFound(id.slice(0, MAX_ID_LENGTH));
  const rotate = async (tx: TransactionSql) => {
    const endpoint = await findEndpoint(tx, actor.tenantId, id, { forUpdate: true });
    if (!endpoint) throw endpointNotFound(id);
    const rotated = await rotateEndpointSecretRow(
      tx,
      id,
      generateSecret(),
      deps.config.WEBHOOK_SECRET_OVERLAP_MS,
    );
    await audit(tx, actor, 'webhook_endpoint.secret_rotated', id);
    return rotated;
  };
  if (!request) {
    return { resource: (await deps.sql.begin(rotate)) as EndpointRow, replayed: false };
  }
  const result = await runIdempotent(deps, request, {
    resourceType: 'webhook_endpoint',
    status: 200,
    newId: () => id,
    load: (db) => findEndpoint(db, actor.tenantId, id),
    create: (tx) => rotate(tx),
  });
  return { resource: result.resource, replayed: result.replayed };
}

export interface DeliveryWithAttempts {
  delivery: DeliveryRow;
  attempts: AttemptRow[];
}

/** The endpoint's deliveries, newest first, each with every attempt made. */
export async function pageDeliveries(
  db: Db,
  tenantId: string,
  endpointId: string,
  page: PageRequest,
  filter: { status?: DeliveryStatus | undefined },
): Promise<Page<DeliveryWithAttempts>> {
  await getEndpoint(db, tenantId, endpointId);
  const found = await listDeliveries(db, endpointId, page, filter);
  const rows = await pageOf(db, found, page, { list: 'webhook_deliveries', scope: endpointId });
  const attempts = await listAttempts(
    db,
    rows.data.map((row) => row.id),
  );
  return {
    ...rows,
    data: rows.data.map((delivery) => ({
      delivery,
      attempts: attempts.filter((attempt) => attempt.deliveryId === delivery.id),
    })),
  };
}

/**
 * Sends a delivery again now, whatever its status. The attempt is the
 * delivery's next one (marked manual). If it fails, the retry schedule goes
 * on from the attempt count, so a delivery that had used up its schedule
 * fails again at once. The endpoint must be enabled (422 otherwise: enable
 * it first). With an idempotency key a repeat does not send again.
 */
export async function retryDelivery(
  deps: WebhookServiceDeps,
  actor: Actor,
  ids: { endpointId: string; deliveryId: string },
  request: IdempotentRequest | undefined,
): Promise<Issued<DeliveryWithAttempts>> {
  // Checked before the key is recorded, whose scope holds the path, ids and all.
  if (ids.endpointId.length > MAX_ID_LENGTH || ids.deliveryId.length > MAX_ID_LENGTH) {
    throw deliveryNotFound(ids.deliveryId.slice(0, MAX_ID_LENGTH));
  }
  const load = (db: Db) => findEndpointDelivery(db, actor.tenantId, ids.endpointId, ids.deliveryId);
  const retry = async (tx: TransactionSql) => {
    const endpoint = await findEndpoint(tx, actor.tenantId, ids.endpointId);
    const delivery =
      endpoint &&
      (await findEndpointDelivery(tx, actor.tenantId, ids.endpointId, ids.deliveryId, {
        forUpdate: true,
      }));
    if (!endpoint || !delivery) throw deliveryNotFound(ids.deliveryId);
    if (!endpoint.enabled) {
      throw new AppError('validation_error', 'the endpoint is disabled; enable it first', {
        errors: [{ field: 'endpoint', message: 'the endpoint is disabled' }],
      });
    }
    await makeDeliveryDue(tx, delivery.id);
    await audit(tx, actor, 'webhook_delivery.retried', delivery.id);
    const due = await load(tx);
    if (!due) throw new Error(`delivery ${delivery.id} vanished while locked`);
    return due;
  };

  let replayed = false;
  let delivery: DeliveryRow;
  if (!request) delivery = (await deps.sql.begin(retry)) as DeliveryRow;
  else {
    const result = await runIdempotent(deps, request, {
      resourceType: 'webhook_delivery',
      status: 202,
      newId: () => ids.deliveryId,
      load: (db) => load(db),
      create: (tx) => retry(tx),
    });
    delivery = result.resource;
    replayed = result.replayed;
  }

  if (!replayed && !deps.deliveryQueue.connected) {
    // BullMQ would hold the add until Redis is back; the sweeper enqueues it.
    deps.log.warn({ deliveryId: delivery.id }, 'could not enqueue a retry: Redis is away');
  } else if (!replayed) {
    await deps.deliveryQueue
      .enqueue({ deliveryId: delivery.id, attempt: delivery.attempts + 1, manual: true })
      .catch((error: unknown) => {
        // The delivery is due in PostgreSQL; the sweeper enqueues it.
        deps.log.warn({ err: error, deliveryId: delivery.id }, 'could not enqueue a retry');
      });
  }
  const attempts = await listAttempts(deps.sql, [delivery.id]);
  return { resource: { delivery, attempts }, replayed };
}

function endpointNotFound(id: string): AppError {
  return new AppError('not_found', `no such webhook endpoint: ${id}`);
}

function deliveryNotFound(id: string): AppError {
  return new AppError('not_found', `no such webhook delivery: ${id}`);
}

async function audit(
  tx: TransactionSql,
  actor: Actor,
  action: string,
  resourceId: string,
  details?: Record<string, unknown>,
): Promise<void> {
  await insertAudit(tx, {
    tenantId: actor.tenantId,
    actor: actor.keyId,
    action,
    resourceType: action.startsWith('webhook_delivery') ? 'webhook_delivery' : 'webhook_endpoint',
    resourceId,
    requestId: actor.requestId,
    ...(details ? { details } : {}),
  });
}
