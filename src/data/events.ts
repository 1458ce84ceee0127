import type { Db } from '../db/sql.js';
import { newId } from '../lib/ids.js';

export type EventType =
  | 'transfer.posted'
  | 'transfer.failed'
  | 'account.closed'
  | 'endpoint.disabled';

export interface NewEvent {
  type: EventType;
  data: Record<string, unknown>;
}

export interface EventRow {
  id: string;
  tenantId: string;
  seq: bigint;
  type: EventType;
  data: Record<string, unknown>;
  createdAt: Date;
}

/**
 * The data is read as text and parsed here: the pool's camelCase transform
 * would otherwise rename the keys inside it, and event data is published
 * exactly as it was written (snake_case, like every API answer).
 */
const EVENT_COLUMNS = 'id, tenant_id, seq, type, data::text as data_json, created_at';

type StoredEventRow = Omit<EventRow, 'data'> & { dataJson: string };

function toEventRow({ dataJson, ...row }: StoredEventRow): EventRow {
  return { ...row, data: JSON.parse(dataJson) as Record<string, unknown> };
}

/**
 * Appends events of one tenant to the outbox, inside the caller's
 * transaction, and marks them for the webhook dispatcher, in one statement.
 * The tenant's counter row stays locked until commit, so sequence numbers
 * become visible in the order they were handed out: a reader following the
 * `after` cursor never skips one. Call it last, just before commit, so that
 * other transactions of the tenant wait on the counter as briefly as can be.
 */
export async function appendEvents(
  db: Db,
  tenantId: string,
  events: NewEvent[],
): Promise<EventRow[]> {
  if (events.length === 0) return [];
  const ids = events.map(() => newId('evt'));
  const types = events.map((event) => event.type);
  const data = events.map((event) => JSON.stringify(event.data));
  const rows = await db<StoredEventRow[]>`
    with counter as (
      update tenants set event_seq = event_seq + ${events.length}
      where id = ${tenantId}
      returning event_seq - ${events.length} as base
    ), fresh as (
      select n.id, n.type, n.data::jsonb as data, counter.base + n.ordinal as seq
      from counter,
        unnest(${ids}::text[], ${types}::text[], ${data}::text[])
          with ordinality as n (id, type, data, ordinal)
    ), dispatch as (
      insert into event_dispatch (event_id, tenant_id)
      select id, ${tenantId} from fresh
    )
    insert into events (id, tenant_id, seq, type, data)
    select id, ${tenantId}, seq, type, data from fresh
    returning ${db.unsafe(EVENT_COLUMNS)}`;
  if (rows.length !== events.length) throw new Error(`no tenant ${tenantId}`);
  return rows.map(toEventRow);
}

/** A tenant's event. */
export async function findEvent(
  db: Db,
  tenantId: string,
  id: string,
): Promise<EventRow | undefined> {
  const [row] = await db<StoredEventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)} from events where id = ${id} and tenant_id = ${tenantId}`;
  return row && toEventRow(row);
}

/** An event by id, whoever's it is: for the delivery worker. */
export async function findEventById(db: Db, id: string): Promise<EventRow | undefined> {
  const [row] = await db<StoredEventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)} from events where id = ${id}`;
  return row && toEventRow(row);
}

/**
 * The tenant's events after sequence number `afterSeq`, in sequence order,
 * optionally of one type; `limit + 1` rows, so the caller can tell whether
 * more follow.
 */
export async function listEventsAfter(
  db: Db,
  tenantId: string,
  afterSeq: bigint,
  limit: number,
  filter: { type?: EventType | undefined },
): Promise<EventRow[]> {
  const type = filter.type ? db`and type = ${filter.type}` : db``;
  const rows = await db<StoredEventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)} from events
    where tenant_id = ${tenantId} and seq > ${afterSeq.toString()} ${type}
    order by seq
    limit ${limit + 1}`;
  return rows.map(toEventRow);
}
