import type { Db, TransactionSql } from '../db/sql.js';
import type { EventType } from './events.js';
import type { PageRequest } from './pagination.js';

export type EndpointEventType = EventType | '*';
export type DisabledReason = 'manual' | 'gone' | 'failing';

export interface EndpointRow {
  id: string;
  tenantId: string;
  url: string;
  description: string | null;
  eventTypes: EndpointEventType[];
  enabled: boolean;
  disabledReason: DisabledReason | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
  deletedAt: Date | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';
export type DeliveryFailureReason = 'attempts_exhausted' | 'endpoint_gone' | 'endpoint_disabled';

export interface DeliveryRow {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  eventType: EventType;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  failureReason: DeliveryFailureReason | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface AttemptRow {
  deliveryId: string;
  attempt: number;
  manual: boolean;
  startedAt: Date;
  durationMs: number;
  succeeded: boolean;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

const ENDPOINT_COLUMNS = `id, tenant_id, url, description, event_types, enabled, disabled_reason,
  secret, previous_secret, previous_secret_expires_at, failing_since, created_at, updated_at,
  disabled_at, deleted_at`;

const DELIVERY_COLUMNS = `d.id, d.tenant_id, d.endpoint_id, d.event_id, e.type as event_type,
  d.status, d.attempts, d.next_attempt_at, d.failure_reason, d.created_at, d.updated_at,
  d.completed_at`;

// Endpoints ------------------------------------------------------------------

export interface NewEndpoint {
  id: string;
  tenantId: string;
  url: string;
  description: string | null;
  eventTypes: EndpointEventType[];
  secret: string;
}

export async function insertEndpoint(db: Db, endpoint: NewEndpoint): Promise<EndpointRow> {
  const [row] = await db<EndpointRow[]>`
    insert into webhook_endpoints (id, tenant_id, url, description, event_types, secret)
    values (${endpoint.id}, ${endpoint.tenantId}, ${endpoint.url}, ${endpoint.description},
      ${endpoint.eventTypes}, ${endpoint.secret})
    returning ${db.unsafe(ENDPOINT_COLUMNS)}`;
  if (!row) throw new Error('endpoint insert returned nothing');
  return row;
}

/** A tenant's endpoint that is not deleted, or, with `includeDeleted`, any of its endpoints. */
export async function findEndpoint(
  db: Db,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean; includeDeleted?: boolean } = {},
): Promise<EndpointRow | undefined> {
  const lock = options.forUpdate ? db`for update` : db``;
  const live = options.includeDeleted ? db`` : db`and deleted_at is null`;
  const [row] = await db<EndpointRow[]>`
    select ${db.unsafe(ENDPOINT_COLUMNS)} from webhook_endpoints
    where id = ${id} and tenant_id = ${tenantId} ${live} ${lock}`;
  return row;
}

/** Any endpoint by id, deleted or not: for the delivery worker. */
export async function findEndpointById(db: Db, id: string): Promise<EndpointRow | undefined> {
  const [row] = await db<EndpointRow[]>`
    select ${db.unsafe(ENDPOINT_COLUMNS)} from webhook_endpoints where id = ${id}`;
  return row;
}

export async function listEndpoints(
  db: Db,
  tenantId: string,
  page: PageRequest,
): Promise<EndpointRow[]> {
  const after = page.startingAfter
    ? db`and seq < (select seq from webhook_endpoints
        where id = ${page.startingAfter} and tenant_id = ${tenantId})`
    : db``;
  return db<EndpointRow[]>`
    select ${db.unsafe(ENDPOINT_COLUMNS)} from webhook_endpoints
    where tenant_id = ${tenantId} and deleted_at is null ${after}
    order by seq desc
    limit ${page.limit + 1}`;
}

export interface EndpointChanges {
  url?: string | undefined;
  description?: string | null | undefined;
  eventTypes?: EndpointEventType[] | undefined;
  enabled?: boolean | undefined;
}

/**
 * Applies a tenant's changes. Disabling records the reason `manual`;
 * enabling clears the reason and the failing streak, so that an endpoint
 * switched back on gets its full grace period again.
 */
export async function updateEndpointRow(
  db: Db,
  id: string,
  changes: EndpointChanges,
): Promise<EndpointRow> {
  const sets = [db`updated_at = clock_timestamp()`];
  if (changes.url !== undefined) sets.push(db`url = ${changes.url}`);
  if (changes.description !== undefined) sets.push(db`description = ${changes.description}`);
  if (changes.eventTypes !== undefined) sets.push(db`event_types = ${changes.eventTypes}`);
  if (changes.enabled === true) {
    sets.push(db`enabled = true, disabled_reason = null, disabled_at = null, failing_since = null`);
  }
  if (changes.enabled === false) {
    sets.push(db`enabled = false, disabled_reason = coalesce(disabled_reason, 'manual'),
      disabled_at = coalesce(disabled_at, clock_timestamp())`);
  }
  const assignments = sets.reduce((all, part) => db`${all}, ${part}`);
  const [row] = await db<EndpointRow[]>`
    update webhook_endpoints set ${assignments}
    where id = ${id}
    returning ${db.unsafe(ENDPOINT_COLUMNS)}`;
  if (!row) throw new Error(`endpoint ${id} vanished while locked`);
  return row;
}

export async function markEndpointDeleted(db: Db, id: string): Promise<EndpointRow> {
  const [row] = await db<EndpointRow[]>`
    update webhook_endpoints set deleted_at = clock_timestamp(), updated_at = clock_timestamp(),
      enabled = false, disabled_reason = coalesce(disabled_reason, 'manual'),
      disabled_at = coalesce(disabled_at, clock_timestamp())
    where id = ${id}
    returning ${db.unsafe(ENDPOINT_COLUMNS)}`;
  if (!row) throw new Error(`endpoint ${id} vanished while locked`);
  return row;
}

/**
 * Makes `secret` the endpoint's secret; the one it replaces keeps signing
 * for `overlapMs`. A secret older than that is dropped: at most two sign.
 */
export async function rotateEndpointSecretRow(
  db: Db,
  id: string,
  secret: string,
  overlapMs: number,
): Promise<EndpointRow> {
  const [row] = await db<EndpointRow[]>`
    update webhook_endpoints set
      previous_secret = secret,
      previous_secret_expires_at = clock_timestamp()
        + make_interval(secs => ${overlapMs / 1000}::float8),
      secret = ${secret},
      updated_at = clock_timestamp()
    where id = ${id}
    returning ${db.unsafe(ENDPOINT_COLUMNS)}`;
  if (!row) throw new Error(`endpoint ${id} vanished while locked`);
  return row;
}

/**
 * Notes a failed attempt: starts the endpoint's failing streak if none is
 * running. Returns whether the streak is now at least `disableAfterMs` long.
 */
export async function noteEndpointFailure(
  tx: TransactionSql,
  id: string,
  disableAfterMs: number,
): Promise<boolean> {
  const [row] = await tx<{ overdue: boolean }[]>`
    update webhook_endpoints set failing_since = coalesce(failing_since, clock_timestamp())
    where id = ${id}
    returning failing_since
      <= clock_timestamp() - make_interval(secs => ${disableAfterMs / 1000}::float8) as overdue`;
  return row?.overdue === true;
}

/** Ends the endpoint's failing streak, if one is running. */
export async function noteEndpointSuccess(tx: TransactionSql, id: string): Promise<void> {
  await tx`
    update webhook_endpoints set failing_since = null
    where id = ${id} and failing_since is not null`;
}

/** Disables an enabled endpoint; undefined when it was already disabled. */
export async function disableEndpointRow(
  tx: TransactionSql,
  id: string,
  reason: DisabledReason,
): Promise<EndpointRow | undefined> {
  const [row] = await tx<EndpointRow[]>`
    update webhook_endpoints set enabled = false, disabled_reason = ${reason},
      disabled_at = clock_timestamp(), updated_at = clock_timestamp()
    where id = ${id} and enabled
    returning ${tx.unsafe(ENDPOINT_COLUMNS)}`;
  return row;
}

// Dispatch -------------------------------------------------------------------

export interface DispatchEvent {
  id: string;
  tenantId: string;
  type: EventType;
  createdAt: Date;
}

/**
 * Takes up to `limit` outbox markers, oldest first, locked until the
 * transaction ends; markers another dispatcher holds are skipped.
 */
export async function claimDispatchBatch(
  tx: TransactionSql,
  limit: number,
): Promise<DispatchEvent[]> {
  return tx<DispatchEvent[]>`
    with claimed as (
      select event_id from event_dispatch
      order by created_at, event_id
      limit ${limit}
      for update skip locked
    )
    select e.id, e.tenant_id, e.type, e.created_at
    from claimed c join events e on e.id = c.event_id
    order by e.tenant_id, e.created_at, e.id`;
}

/** The enabled, undeleted endpoints of these tenants. */
export async function findLiveEndpoints(
  db: Db,
  tenantIds: string[],
): Promise<Pick<EndpointRow, 'id' | 'tenantId' | 'eventTypes' | 'createdAt'>[]> {
  if (tenantIds.length === 0) return [];
  return db`
    select id, tenant_id, event_types, created_at from webhook_endpoints
    where tenant_id = any(${tenantIds}) and enabled and deleted_at is null`;
}

export interface NewDelivery {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  nextAttemptAt: Date;
}

/**
 * Inserts deliveries; one that exists for the same event and endpoint is left
 * alone. The rows travel as one array per column: a batch of events fanned
 * out to many endpoints has more deliveries than a statement could carry
 * parameters if each delivery took its own.
 */
export async function insertDeliveries(
  tx: TransactionSql,
  deliveries: NewDelivery[],
): Promise<{ id: string; nextAttemptAt: Date }[]> {
  if (deliveries.length === 0) return [];
  const column = <V>(pick: (delivery: NewDelivery) => V) => deliveries.map(pick);
  return tx<{ id: string; nextAttemptAt: Date }[]>`
    insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, next_attempt_at)
    select id, tenant_id, endpoint_id, event_id, next_attempt_at from unnest(
      ${column((d) => d.id)}::text[],
      ${column((d) => d.tenantId)}::text[],
      ${column((d) => d.endpointId)}::text[],
      ${column((d) => d.eventId)}::text[],
      ${column((d) => d.nextAttemptAt.toISOString())}::timestamptz[])
      with ordinality as d (id, tenant_id, endpoint_id, event_id, next_attempt_at, ordinal)
    -- In the order given, as the sequence numbers that order the list read.
    order by ordinal
    on conflict (event_id, endpoint_id) do nothing
    returning id, next_attempt_at`;
}

export async function deleteDispatchMarkers(tx: TransactionSql, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await tx`delete from event_dispatch where event_id = any(${eventIds})`;
}

// Deliveries -----------------------------------------------------------------

export async function findDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db<DeliveryRow[]>`
    select ${db.unsafe(DELIVERY_COLUMNS)}
    from webhook_deliveries d join events e on e.id = d.event_id
    where d.id = ${id}`;
  return row;
}

/** A delivery of one of a tenant's endpoints. */
export async function findEndpointDelivery(
  db: Db,
  tenantId: string,
  endpointId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<DeliveryRow | undefined> {
  const lock = options.forUpdate ? db`for update of d` : db``;
  const [row] = await db<DeliveryRow[]>`
    select ${db.unsafe(DELIVERY_COLUMNS)}
    from webhook_deliveries d join events e on e.id = d.event_id
    where d.id = ${id} and d.tenant_id = ${tenantId} and d.endpoint_id = ${endpointId}
    ${lock}`;
  return row;
}

export async function listDeliveries(
  db: Db,
  endpointId: string,
  page: PageRequest,
  filter: { status?: DeliveryStatus | undefined },
): Promise<DeliveryRow[]> {
  const after = page.startingAfter
    ? db`and d.seq < (select seq from webhook_deliveries
        where id = ${page.startingAfter} and endpoint_id = ${endpointId})`
    : db``;
  const status = filter.status ? db`and d.status = ${filter.status}` : db``;
  return db<DeliveryRow[]>`
    select ${db.unsafe(DELIVERY_COLUMNS)}
    from webhook_deliveries d join events e on e.id = d.event_id
    where d.endpoint_id = ${endpointId} ${status} ${after}
    order by d.seq desc
    limit ${page.limit + 1}`;
}

export async function listAttempts(db: Db, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db<AttemptRow[]>`
    select delivery_id, attempt, manual, started_at, duration_ms, succeeded, status_code, error,
      response_body
    from webhook_attempts
    where delivery_id = any(${deliveryIds})
    order by delivery_id, attempt`;
}

/** Makes a delivery due now, whatever its state; its attempt count stays. */
export async function makeDeliveryDue(db: Db, id: string): Promise<void> {
  await db`
    update webhook_deliveries set status = 'pending', next_attempt_at = clock_timestamp(),
      failure_reason = null, completed_at = null, updated_at = clock_timestamp()
    where id = ${id}`;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  manual: boolean;
  startedAt: Date;
  durationMs: number;
  succeeded: boolean;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

export type DeliveryNext =
  | { status: 'pending'; nextAttemptAt: Date }
  | { status: 'succeeded' }
  | { status: 'failed'; reason: DeliveryFailureReason };

/**
 * Records attempt `attempt` and moves the delivery on, provided the delivery
 * is still pending and waiting for exactly that attempt. False when another
 * run got there first; then nothing is written.
 */
export async function recordAttemptRow(
  tx: TransactionSql,
  record: AttemptRecord,
  next: DeliveryNext,
): Promise<boolean> {
  const nextAttemptAt = next.status === 'pending' ? next.nextAttemptAt : null;
  const reason = next.status === 'failed' ? next.reason : null;
  const moved = await tx`
    update webhook_deliveries set
      attempts = ${record.attempt},
      status = ${next.status},
      next_attempt_at = ${nextAttemptAt},
      failure_reason = ${reason},
      completed_at = ${next.status === 'pending' ? null : tx`clock_timestamp()`},
      updated_at = clock_timestamp()
    where id = ${record.deliveryId} and status = 'pending' and attempts = ${record.attempt - 1}
    returning id`;
  if (moved.length === 0) return false;
  await tx`
    insert into webhook_attempts ${tx(
      record,
      'deliveryId',
      'attempt',
      'manual',
      'startedAt',
      'durationMs',
      'succeeded',
      'statusCode',
      'error',
      'responseBody',
    )}`;
  return true;
}

/** Ends a pending delivery without an attempt (its endpoint is off). */
export async function failDeliveryWithoutAttempt(
  db: Db,
  id: string,
  reason: DeliveryFailureReason,
): Promise<void> {
  await db`
    update webhook_deliveries set status = 'failed', failure_reason = ${reason},
      next_attempt_at = null, completed_at = clock_timestamp(), updated_at = clock_timestamp()
    where id = ${id} and status = 'pending'`;
}

// Recovery -------------------------------------------------------------------

/** First key of this module's two-int advisory locks. */
const WEBHOOK_LOCK_NAMESPACE = 727_366_201;
const SWEEPER_LOCK_KEY = 1;

/** True if this transaction now holds the webhook sweeper lock; it is released at commit. */
export async function tryLockWebhookSweeper(tx: TransactionSql): Promise<boolean> {
  const [row] = await tx<{ locked: boolean }[]>`
    select pg_try_advisory_xact_lock(${WEBHOOK_LOCK_NAMESPACE}::int4, ${SWEEPER_LOCK_KEY}::int4)
      as locked`;
  return row?.locked === true;
}

export interface DueDelivery {
  id: string;
  attempts: number;
}

/** Pending deliveries due for longer than `overdueMs`, oldest due first. */
export async function findOverdueDeliveries(
  db: Db,
  overdueMs: number,
  limit: number,
): Promise<DueDelivery[]> {
  return db<DueDelivery[]>`
    select id, attempts from webhook_deliveries
    where status = 'pending'
      and next_attempt_at < clock_timestamp() - make_interval(secs => ${overdueMs / 1000}::float8)
    order by next_attempt_at
    limit ${limit}`;
}
