import type { Db } from '../db/sql.js';
import type { PageRequest } from './pagination.js';
import type { AccountRow } from './rows.js';

export type { AccountRow };

const COLUMNS =
  'id, tenant_id, currency, balance, overdraft_limit, reference, metadata, version, ' +
  'created_at, closed_at';

export interface NewAccount {
  id: string;
  tenantId: string;
  currency: string;
  overdraftLimit: bigint;
  reference: string | null;
  metadata: Record<string, unknown>;
}

/** Inserts an account; undefined when the tenant already has the reference. */
export async function insertAccount(db: Db, account: NewAccount): Promise<AccountRow | undefined> {
  const [row] = await db<AccountRow[]>`
    insert into accounts (id, tenant_id, currency, overdraft_limit, reference, metadata)
    values (${account.id}, ${account.tenantId}, ${account.currency},
      ${account.overdraftLimit.toString()}, ${account.reference},
      ${db.json(account.metadata as never)})
    on conflict (tenant_id, reference) do nothing
    returning ${db.unsafe(COLUMNS)}`;
  return row;
}

export async function findAccount(
  db: Db,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<AccountRow | undefined> {
  const lock = options.forUpdate ? db`for update` : db``;
  const [row] = await db<AccountRow[]>`
    select ${db.unsafe(COLUMNS)} from accounts
    where id = ${id} and tenant_id = ${tenantId} ${lock}`;
  return row;
}

/** The tenant's accounts among `ids`, locked in id order when asked. */
export async function findAccounts(db: Db, tenantId: string, ids: string[]): Promise<AccountRow[]> {
  return db<AccountRow[]>`
    select ${db.unsafe(COLUMNS)} from accounts
    where tenant_id = ${tenantId} and id = any(${ids})`;
}

export async function listAccounts(
  db: Db,
  tenantId: string,
  page: PageRequest,
  filter: { reference?: string | undefined },
): Promise<AccountRow[]> {
  const after = page.startingAfter
    ? db`and seq < (select seq from accounts
        where id = ${page.startingAfter} and tenant_id = ${tenantId})`
    : db``;
  const reference = filter.reference !== undefined ? db`and reference = ${filter.reference}` : db``;
  return db<AccountRow[]>`
    select ${db.unsafe(COLUMNS)} from accounts
    where tenant_id = ${tenantId} ${reference} ${after}
    order by seq desc
    limit ${page.limit + 1}`;
}

/**
 * Whether a transfer from or to the account is pending: read from the queue
 * of pending transfers (migration 0013), whose size is the backlog, not from
 * the account's history, which only grows.
 */
export async function hasPendingTransfers(db: Db, accountId: string): Promise<boolean> {
  const rows = await db`
    select 1 from transfers
    where id = any(array(select transfer_id from pending_transfers)) and status = 'pending'
      and (source_account_id = ${accountId} or destination_account_id = ${accountId})
    limit 1`;
  return rows.length > 0;
}

/**
 * Marks a locked account closed. The time is read when the row is written,
 * not when the transaction began: the close may have waited for the row
 * behind transfers that posted on the account, and must not appear to
 * precede them.
 */
export async function markAccountClosed(db: Db, id: string): Promise<AccountRow> {
  const [row] = await db<AccountRow[]>`
    update accounts set closed_at = clock_timestamp(), version = version + 1
    where id = ${id}
    returning ${db.unsafe(COLUMNS)}`;
  if (!row) throw new Error(`account ${id} vanished while locked`);
  return row;
}
