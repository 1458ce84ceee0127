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
  /** Null until the sequencer numbers the event, shortly after it commits. */
  seq: bigint | null;
  type: EventType;
  data: Record<string, unknown>;
  createdAt: Date;
}

const EVENT_COLUMNS = 'id, tenant_id, seq, type, data, created_at';

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
      insert into event_sequencing (event_id, tenant_id)
      select id, tenant_id from fresh_events order by ordinal
    ), new_events as (
      insert into events (id, tenant_id, type, data)
      select id, tenant_id, type, data from fresh_events order by ordinal
      returning ${EVENT_COLUMNS}
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
 * counter. The caller holds the sequencer lock until it commits, so numbers
 * become visible in the order they were handed out and a reader following
 * the `after` cursor never skips one. Returns how many events it numbered.
 *
 * Two statements: the first takes the events off the queue and draws their
 * numbers; the second writes them by primary key. In one statement the
 * planner, which cannot tell how many events a pass takes, may join the
 * whole events table instead of looking each event up.
 */
export async function assignEventSequences(db: Db, limit: number): Promise<number> {
  const numbered = await db<{ eventId: string; seq: bigint }[]>`
    with picked as (
      delete from event_sequencing
      where position in (select position from event_sequencing order by position limit ${limit})
      returning position, event_id, tenant_id
    ), numbered as (
      select event_id, tenant_id,
        row_number() over (partition by tenant_id order by position) as n
      from picked
    ), counters as (
      update tenants t set event_seq = t.event_seq + c.count
      from (select tenant_id, count(*) as count from numbered group by tenant_id) c
      where t.id = c.tenant_id
      returning t.id, t.event_seq - c.count as base
    )
    select numbered.event_id, counters.base + numbered.n as seq
    from numbered join counters on counters.id = numbered.tenant_id`;
  if (numbered.length === 0) return 0;
  // An unnamed statement, planned for the arrays it is given: a plan cached
  // while the table was small would scan it whole long after it has grown.
  const rows = await db.unsafe(
    `update events e set seq = v.seq
    from unnest($1::text[], $2::int8[]) as v (id, seq)
    where e.id = v.id
    returning e.id`,
    [numbered.map((row) => row.eventId), numbered.map((row) => row.seq.toString())],
  );
  if (rows.length !== numbered.length) {
    throw new Error(`numbered ${rows.length} of ${numbered.length} queued events`);
  }
  return rows.length;
}

/** A tenant's event. */
export async function findEvent(
  db: Db,
  tenantId: string,
  id: string,
): Promise<EventRow | undefined> {
  const [row] = await db<EventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)} from events where id = ${id} and tenant_id = ${tenantId}`;
  return row;
}

/** An event by id, whoever's it is: for the delivery worker. */
export async function findEventById(db: Db, id: string): Promise<EventRow | undefined> {
  const [row] = await db<EventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)} from events where id = ${id}`;
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
  const type = filter.type ? db`and type = ${filter.type}` : db``;
  return db<EventRow[]>`
    select ${db.unsafe(EVENT_COLUMNS)} from events
    where tenant_id = ${tenantId} and seq > ${afterSeq.toString()} ${type}
    order by seq
    limit ${limit + 1}`;
}
