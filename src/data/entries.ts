import type { Db } from '../db/sql.js';
import type { PageRequest } from './pagination.js';
import type { EntryRow } from './rows.js';

export type { EntryRow };

/** An account's entries, newest first. */
export async function listEntries(
  db: Db,
  accountId: string,
  page: PageRequest,
): Promise<EntryRow[]> {
  const after = page.startingAfter
    ? db`and seq < (select seq from entries
        where id = ${page.startingAfter} and account_id = ${accountId})`
    : db``;
  return db<EntryRow[]>`
    select id, account_id, transfer_id, amount, balance_after, created_at from entries
    where account_id = ${accountId} ${after}
    order by seq desc
    limit ${page.limit + 1}`;
}
