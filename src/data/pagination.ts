import type { Db } from '../db/sql.js';

export interface PageRequest {
  limit: number;
  startingAfter?: string | undefined;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/**
 * Rows are fetched one beyond the limit; the extra row only says whether
 * another page exists. The cursor is the id of the last row returned.
 */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { data, hasMore, nextCursor: hasMore && last ? last.id : null };
}

/** Each list whose cursor is an id, and what the cursor's row shares with the page. */
const CURSOR_SCOPES = {
  accounts: 'tenant_id',
  transfers: 'tenant_id',
  webhook_endpoints: 'tenant_id',
  entries: 'account_id',
  webhook_deliveries: 'endpoint_id',
} as const;

export type CursorList = keyof typeof CURSOR_SCOPES;

/** Whether `id` names a row of the list `scope` picks out, as its cursor look-up reads it. */
export async function cursorExists(
  db: Db,
  list: CursorList,
  scope: string,
  id: string,
): Promise<boolean> {
  const rows = await db`
    select 1 from ${db(list)} where id = ${id} and ${db(CURSOR_SCOPES[list])} = ${scope}`;
  return rows.length > 0;
}
