import {
  type CursorList,
  cursorExists,
  type Page,
  type PageRequest,
  toPage,
} from '../data/pagination.js';
import type { Db } from '../db/sql.js';
import { AppError } from '../lib/errors.js';

/**
 * The page of `rows`, unless the request's cursor names nothing in its list
 * (a mistyped id, another tenant's, another account's entry): that answers
 * 422, as the event feed's does, rather than an empty page that a client
 * would take for the end of the list. Only an empty page needs the look-up.
 */
export async function pageOf<T extends { id: string }>(
  db: Db,
  rows: T[],
  page: PageRequest,
  cursor: { list: CursorList; scope: string },
): Promise<Page<T>> {
  const after = page.startingAfter;
  if (rows.length === 0 && after && !(await cursorExists(db, cursor.list, cursor.scope, after))) {
    throw new AppError('validation_error', 'the cursor names nothing in this list', {
      errors: [
        { field: 'starting_after', message: 'the id of an item of this list, as next_cursor' },
      ],
    });
  }
  return toPage(rows, page.limit);
}
