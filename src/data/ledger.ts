import type { Db, TransactionSql } from '../db/sql.js';
import type { FailureCode, TransferRow } from './rows.js';

/**
 * First key of the two-int advisory locks that give a partition to one apply
 * transaction at a time. The one-bigint form used by migrations lives in a
 * different key space, so the two can never collide.
 */
export const PARTITION_LOCK_NAMESPACE = 727_366_101;

export type TransferStatus = TransferRow['status'];

/** What the apply step needs of a pending transfer. */
export interface PendingTransfer {
  id: string;
  tenantId: string;
  sourceAccountId: string;
  destinationAccountId: string;
  amount: bigint;
  currency: string;
}

/** What the apply step needs of an account it has locked. */
export interface LedgerAccount {
  id: string;
  tenantId: string;
  currency: string;
  balance: bigint;
  overdraftLimit: bigint;
  closedAt: Date | null;
}

export interface NewEntry {
  id: string;
  tenantId: string;
  accountId: string;
  transferId: string;
  amount: bigint;
  balanceAfter: bigint;
}

export interface BalanceChange {
  accountId: string;
  balance: bigint;
  /** How many entries the batch wrote for the account: its version moves by this much. */
  postings: number;
}

export interface TransferOutcome {
  transferId: string;
  status: Exclude<TransferStatus, 'pending'>;
  failureCode: FailureCode | null;
}

/**
 * Waits until no other transaction applies any of these partitions; released
 * at commit. The locks are taken in partition order, so two transactions
 * asking for overlapping sets wait for each other instead of deadlocking.
 */
export async function lockPartitions(tx: TransactionSql, partitions: number[]): Promise<void> {
  await tx`
    select pg_advisory_xact_lock(${PARTITION_LOCK_NAMESPACE}::int4, p.partition)
    from (select distinct partition from unnest(${partitions}::int4[]) as u (partition)
      order by 1) as p`;
}

/**
 * The oldest pending transfers of each partition, at most `limit` of each,
 * row-locked, all in acceptance (`seq`) order.
 */
export async function lockPendingTransfers(
  tx: TransactionSql,
  partitions: number[],
  limit: number,
): Promise<PendingTransfer[]> {
  return tx<PendingTransfer[]>`
    select t.id, t.tenant_id, t.source_account_id, t.destination_account_id, t.amount,
      t.currency
    from unnest(${partitions}::int4[]) as p (partition)
    cross join lateral (
      select id, tenant_id, source_account_id, destination_account_id, amount, currency, seq
      from transfers
      where transfers.partition = p.partition and status = 'pending'
      order by seq
      limit ${limit}
      for no key update
    ) as t
    order by t.seq`;
}

/**
 * Locks the accounts in one statement, in id order, so that two transactions
 * touching the same accounts from different partitions wait instead of
 * deadlocking. `no key update` is the lock an update of the balance takes
 * anyway; it still lets other transactions insert rows that reference these
 * accounts (new transfers, entries), which only need a key-share lock.
 */
export async function lockAccounts(tx: TransactionSql, ids: string[]): Promise<LedgerAccount[]> {
  return tx<LedgerAccount[]>`
    select id, tenant_id, currency, balance, overdraft_limit, closed_at
    from accounts
    where id = any(${ids}::text[])
    order by id
    for no key update`;
}

/**
 * Writes a decided batch in one statement: the entries, the new balances and
 * versions, and each transfer's final status. Returns the settled transfers
 * in the order of `outcomes`. Every transfer must still be pending and every
 * account present: they are locked, so anything else is a bug, and throws.
 */
export async function writeSettlement(
  tx: TransactionSql,
  entries: NewEntry[],
  balances: BalanceChange[],
  outcomes: TransferOutcome[],
): Promise<TransferRow[]> {
  if (outcomes.length === 0) return [];
  const column = <T, V>(rows: T[], pick: (row: T) => V) => rows.map(pick);
  const updated = await tx<(TransferRow & { balancesUpdated: bigint })[]>`
    with new_entries as (
      insert into entries (id, tenant_id, account_id, transfer_id, amount, balance_after)
      select * from unnest(
        ${column(entries, (e) => e.id)}::text[],
        ${column(entries, (e) => e.tenantId)}::text[],
        ${column(entries, (e) => e.accountId)}::text[],
        ${column(entries, (e) => e.transferId)}::text[],
        ${column(entries, (e) => e.amount.toString())}::int8[],
        ${column(entries, (e) => e.balanceAfter.toString())}::int8[])
    ), new_balances as (
      update accounts a
      set balance = v.balance, version = a.version + v.postings
      from unnest(
        ${column(balances, (b) => b.accountId)}::text[],
        ${column(balances, (b) => b.balance.toString())}::int8[],
        ${column(balances, (b) => String(b.postings))}::int8[]) as v (id, balance, postings)
      where a.id = v.id
      returning a.id
    )
    update transfers t
    set status = v.status,
      failure_code = v.failure_code,
      posted_at = case when v.status = 'posted' then statement_timestamp() end,
      failed_at = case when v.status = 'failed' then statement_timestamp() end
    from unnest(
      ${column(outcomes, (o) => o.transferId)}::text[],
      ${column(outcomes, (o) => o.status)}::text[],
      ${column(outcomes, (o) => o.failureCode)}::text[]) as v (id, status, failure_code)
    where t.id = v.id and t.status = 'pending'
    returning t.id, t.tenant_id, t.source_account_id, t.destination_account_id, t.partition,
      t.amount, t.currency, t.description, t.metadata, t.status,
      t.failure_code, t.attempt, t.previous_attempt_id, t.created_at, t.posted_at, t.failed_at,
      (select count(*) from new_balances) as balances_updated`;
  if (updated.length !== outcomes.length) {
    throw new Error(`settled ${updated.length} of ${outcomes.length} locked transfers`);
  }
  const balancesUpdated = Number(updated[0]?.balancesUpdated ?? 0n);
  if (balancesUpdated !== balances.length) {
    throw new Error(`updated ${balancesUpdated} of ${balances.length} locked accounts`);
  }
  const byId = new Map(updated.map(({ balancesUpdated: _, ...row }) => [row.id, row]));
  return outcomes.map((outcome) => {
    const row = byId.get(outcome.transferId);
    if (!row) throw new Error(`transfer ${outcome.transferId} was not settled`);
    return row;
  });
}

/** The status and partition of one transfer: the processor's cheap first look. */
export async function findTransferState(
  db: Db,
  transferId: string,
): Promise<{ status: TransferStatus; partition: number } | undefined> {
  const [row] = await db<{ status: TransferStatus; partition: number }[]>`
    select status, partition from transfers where id = ${transferId}`;
  return row;
}
