import { type EventRow, type EventType, findEvent, listEventsAfter } from '../data/events.js';
import { type Page, toPage } from '../data/pagination.js';
import type { Db, Sql } from '../db/sql.js';
import { AppError } from '../lib/errors.js';
import { sequenceEvents } from './event-sequencer.js';
import { money } from './views.js';

export function eventView(row: EventRow) {
  return {
    id: row.id,
    object: 'event' as const,
    type: row.type,
    sequence: row.seq === null ? null : money(row.seq),
    created_at: row.createdAt.toISOString(),
    data: row.data,
  };
}

export type EventView = ReturnType<typeof eventView>;

/**
 * Numbers the queued events before a read, so that the read is as fresh as
 * the last commit. A failure here does not fail the read, which then shows
 * what was numbered before: the workers' sequencer logs it and tries again.
 */
async function numberQueuedEvents(sql: Sql): Promise<void> {
  await sequenceEvents(sql).catch(() => undefined);
}

/** One event of the tenant; queued events are numbered first, so it shows its sequence. */
export async function getEvent(sql: Sql, tenantId: string, id: string): Promise<EventRow> {
  await numberQueuedEvents(sql);
  const event = await findEvent(sql, tenantId, id);
  if (!event) throw new AppError('not_found', `no such event: ${id}`);
  return event;
}

export interface EventFeedQuery {
  /** A sequence number or an event id; the page starts after it. */
  after?: string | undefined;
  /** The parameter `after` came as, for a 422 that names it. */
  cursorField?: 'after' | 'starting_after';
  limit: number;
  type?: EventType | undefined;
}

/**
 * A page of the tenant's event feed, in sequence order, oldest first.
 * Following `next_cursor` (or the last id seen) reads every event exactly
 * once: sequence numbers become visible in the order they were handed out.
 * Events queued for numbering are numbered first, so the feed is as fresh as
 * the last commit. A cursor that names no event of the tenant is a
 * validation error.
 */
export async function pageEvents(
  sql: Sql,
  tenantId: string,
  query: EventFeedQuery,
): Promise<Page<EventRow>> {
  await numberQueuedEvents(sql);
  const afterSeq = await cursorSeq(sql, tenantId, query.after, query.cursorField ?? 'after');
  const rows = await listEventsAfter(sql, tenantId, afterSeq, query.limit, { type: query.type });
  return toPage(rows, query.limit);
}

async function cursorSeq(
  db: Db,
  tenantId: string,
  after: string | undefined,
  field: string,
): Promise<bigint> {
  if (after === undefined) return 0n;
  if (/^\d{1,18}$/.test(after)) return BigInt(after);
  const event = await findEvent(db, tenantId, after);
  if (!event) {
    throw new AppError('validation_error', 'the cursor names no event', {
      errors: [{ field, message: 'a sequence number or the id of one of your events' }],
    });
  }
  if (event.seq === null) {
    throw new AppError('unavailable', 'that event is not in the feed yet; retry shortly', {
      retryable: true,
    });
  }
  return event.seq;
}
