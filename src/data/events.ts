import type { Db, Statement } from '../db/sql.js';
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
  /** Null until the sequencer numbers the event, shortly after it commits. */
  seq: bigint | null;
  type: EventType;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** An event's columns, from `events e` joined to its number, `event_numbers n`. */
const EVENT_COLUMNS = 'e.id, e.tenant_id, n.seq, e.type, e.data, e.created_at';

/**
 * Joins an event to its number only when the number was filed under the
 * event's own tenant and type: the tenant and type of a number are copies,
 * and a copy that differs must not move an event into another feed.
 */
const NUMBER_OF_EVENT = 'n.event_id = e.id and n.tenant_id = e.tenant_id and n.type = e.type';

/**
 * The outbox's writes, as common table expressions over a CTE `fresh_events`
 * (id, tenant_id, type, data as jsonb, ordinal) written before them: each
 * event is marked for the webhook dispatcher (`dispatch`), queued for the
 * sequencer (`queued`), and inserted (`new_events`, returning its row), in
 * `ordinal` order. Every statement that appends events uses this text, so
 * that the outbox is written the same way everywhere.
 */
export const OUTBOX_WRITES = `dispatch as (
      insert into event_dispatch (event_id, tenant_id)
      select id, tenant_id from fresh_events
    ), queued as (
      insert into event_sequencing (event_id, tenant_id, type)
      select id, tenant_id, type from fresh_events order by ordinal
    ), new_events as (
      insert into events (id, tenant_id, type, data)
      select id, tenant_id, type, data from fresh_events order by ordinal
      returning id, tenant_id, null::int8 as seq, type, data, created_at
    )`;

/**
 * Appends events of one tenant to the outbox, inside the caller's
 * transaction, in one statement (`OUTBOX_WRITES`): marked for the webhook
 * dispatcher and queued for the sequencer, which numbers them after commit
 * (see `assignEventSequences`). Nothing here locks a row that other
 * transactions of the tenant need.
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
  return db<EventRow[]>`
    with fresh_events as (
      select n.id, ${tenantId}::text as tenant_id, n.type, n.data::jsonb as data, n.ordinal
      from unnest(${ids}::text[], ${types}::text[], ${data}::text[])
        with ordinality as n (id, type, data, ordinal)
    ), ${db.unsafe(OUTBOX_WRITES)}
    select new_events.* from new_events join fresh_events using (id)
    order by fresh_events.ordinal`;
}

/**
 * Numbers up to `limit` queued events, oldest first, each tenant's from its
 * counter, in one statement: the events leave the queue and their numbers go
 * into `event_numbers`. An event queued again after it was numbered leaves
 * the queue and keeps its number. The caller holds the sequencer lock until
 * it commits, so numbers become visible in the order they were handed out
 * and a reader following the `after` cursor never skips one. The statement
 * fails, and the caller's transaction with it, unless every event it took
 * off the queue without a number got one. Answers how many events it took
 * off the queue and how many of them it numbered.
 */
export function assignEventSequences(
  db: Db,
  limit: number,
): Statement<{ taken: bigint; numbered: bigint }[]> {
  return db<{ taken: bigint; numbered: bigint }[]>`
    with picked as (
      delete from event_sequencing
      where position in (select position from event_sequencing order by position limit ${limit})
      returning position, event_id, tenant_id, type
    ), unnumbered as (
      -- A subquery per event, looked up by key: as an anti-join, the planner
      -- may read all of event_numbers to drop the rare event numbered before.
      select * from picked
      where (select 1 from event_numbers n where n.event_id = picked.event_id) is null
    ), numbered as (
      select event_id, tenant_id, type,
        row_number() over (partition by tenant_id order by position) as n
      from unnumbered
    ), counters as (
      update tenants t set event_seq = t.event_seq + c.count
      from (select tenant_id, count(*) as count from numbered group by tenant_id) c
      where t.id = c.tenant_id
      returning t.id, t.event_seq - c.count as base
    ), written as (
      insert into event_numbers (tenant_id, seq, event_id, type)
      select numbered.tenant_id, counters.base + numbered.n, numbered.event_id, numbered.type
      from numbered join counters on counters.id = numbered.tenant_id
      returning event_id
    ), counts as (
      select (select count(*) from picked) as taken,
        (select count(*) from unnumbered) as unnumbered,
        (select count(*) from written) as written
    )
    select counts.taken, counts.written as numbered
    from counts
    where fail_unless(counts.unnumbered = counts.written,
      format('numbered %s of %s queued events', counts.written, counts.unnumbered))`;
}

/** A tenant's event. */
export async function findEvent(
  db: Db,
  tenantId: string,
  id: string,
): Promise<EventRow | undefined> {
  const [row] = await db<EventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)}
    from events e left join event_numbers n on ${db.unsafe(NUMBER_OF_EVENT)}
    where e.id = ${id} and e.tenant_id = ${tenantId}`;
  return row;
}

/** An event by id, whoever's it is: for the delivery worker. */
export async function findEventById(db: Db, id: string): Promise<EventRow | undefined> {
  const [row] = await db<EventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)}
    from events e left join event_numbers n on ${db.unsafe(NUMBER_OF_EVENT)}
    where e.id = ${id}`;
  return row;
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
  const type = filter.type ? db`and n.type = ${filter.type}` : db``;
  return db<EventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)}
    from event_numbers n join events e on ${db.unsafe(NUMBER_OF_EVENT)}
    where n.tenant_id = ${tenantId} and n.seq > ${afterSeq.toString()} ${type}
    order by n.seq
    limit ${limit + 1}`;
}
