import type { Db, Statement } from '../db/sql.js';
import { OUTBOX_WRITES } from './events.js';
import type { FailureCode, TransferRow } from './rows.js';

/**
 * First key of the two-int advisory locks that give a partition to one apply
 * transaction at a time. The one-bigint form used by migrations lives in a
 * different key space, so the two can never collide.
 */
export const PARTITION_LOCK_NAMESPACE = 727_366_101;

export type TransferStatus = TransferRow['status'];

/**
 * Planner settings of an apply transaction, for its own statements alone.
 * They find every row by key whatever the plan (see `lockPartitionWork`), so
 * each keeps the one generic plan a session makes of it instead of being
 * planned again at every run, which took as long as running it. A plan made
 * while a table fills a page or two would read it in full at each look-up,
 * and go on doing so as the table grows: sequential scans are ruled out
 * wherever an index serves. The lock statement's final join is estimated at
 * hundreds of times the rows it returns, a cost that would have PostgreSQL
 * compile it (JIT) at every run: JIT is off.
 */
export const APPLY_SETTINGS: Readonly<Record<string, string>> = {
  plan_cache_mode: 'force_generic_plan',
  enable_seqscan: 'off',
  jit: 'off',
};

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

/** What one apply transaction locked: its pending transfers and their accounts. */
export interface PartitionWork {
  /** The pending transfers, all in acceptance (`seq`) order. */
  transfers: TransferRow[];
  accounts: LedgerAccount[];
  /** The database's clock once everything was locked, when the batch settles; null if idle. */
  lockedAt: Date | null;
}

/** A transfer's columns, named by table where the lock statement joins `pending_transfers`. */
const TRANSFER_COLUMNS = [
  'id',
  'tenant_id',
  'source_account_id',
  'destination_account_id',
  'partition',
  'amount',
  'currency',
  'description',
  'metadata',
  'status',
  'failure_code',
  'attempt',
  'previous_attempt_id',
  'created_at',
  'posted_at',
  'failed_at',
  'seq',
]
  .map((column) => `transfers.${column}`)
  .join(', ');

/** A pending transfer with both its accounts, as the lock statement returns it. */
export interface WorkRow extends TransferRow {
  seq: bigint;
  lockedAt: Date;
  sourceTenantId: string | null;
  sourceCurrency: string;
  sourceBalance: bigint;
  sourceOverdraftLimit: bigint;
  sourceClosedAt: Date | null;
  destinationTenantId: string | null;
  destinationCurrency: string;
  destinationBalance: bigint;
  destinationOverdraftLimit: bigint;
  destinationClosedAt: Date | null;
}

/**
 * Locks what one apply transaction works on, in one statement and in this
 * order:
 * 1. Each partition, with an advisory lock in partition order, released at
 *    commit, so that one transaction at a time applies it and two asking for
 *    overlapping sets wait instead of deadlocking. The count over the locks
 *    is a barrier: no transfer is read before all are held.
 * 2. The oldest pending transfers of each partition, at most `limit` of
 *    each, in the order of `pending_transfers` (migration 0013). The
 *    statement's snapshot may predate a transaction that settled some of
 *    them while this one waited for a partition; the row lock reads the
 *    latest version of each transfer, whose status is then no longer
 *    `pending`, so such a transfer is left out, never settled twice.
 * 3. Their accounts, in id order: first those of each partition's oldest
 *    transfer (its head), waiting for any that another transaction holds,
 *    then the others, skipping any that another transaction holds. The
 *    skipped accounts are missing from the rows, and their transfers wait
 *    for a later transaction (see `settleInOrder`), so that apply
 *    transactions of different partitions that share an account do not, as
 *    a rule, queue behind each other, while each transaction still settles
 *    the oldest transfer it read. An apply transaction only ever waits for
 *    accounts in id order, and never once it has skipped one, so two of
 *    them never deadlock. `no key update` is the lock an update of the balance takes
 *    anyway; it still lets other transactions insert rows that reference
 *    these accounts (new transfers, entries), which only need a key-share
 *    lock. The row lock reads the latest balance.
 *
 * Every row is reached by key, whatever the planner estimates: a lateral
 * look-up per partition, with the batch limit written into the statement,
 * and one per account, in id order. So a generic plan, made once per session
 * without the values (`APPLY_SETTINGS`), reads the same rows as a plan made
 * for the values at hand.
 */
export function lockPartitionWork(
  tx: Db,
  partitions: number[],
  limit: number,
): Statement<WorkRow[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`batch limit ${limit}`);
  return tx<WorkRow[]>`
    with partition_locks as (
      select count(*) as held from (
        select pg_advisory_xact_lock(${PARTITION_LOCK_NAMESPACE}::int4, p.partition)
        from (select distinct partition from unnest(${partitions}::int4[]) as u (partition)
          order by 1) as p
      ) as taken
    ), pending as (
      select t.*
      from (select distinct partition from unnest(${partitions}::int4[]) as u (partition)) as p
      cross join lateral (
        select found.*
        from pending_transfers q
        -- One transfer per queued row, by its id, locked as it is read; the
        -- limit keeps the look-up from being turned into a join that could
        -- read every transfer. A transfer settled since the statement's
        -- snapshot is left out by its lock, and the next queued row is read.
        cross join lateral (
          select ${tx.unsafe(TRANSFER_COLUMNS)}
          from transfers
          where transfers.id = q.transfer_id and transfers.status = 'pending'
          limit 1
          for no key update
        ) as found
        where q.partition = p.partition and (select held from partition_locks) >= 0
        order by q.seq
        limit ${tx.unsafe(String(limit))}
      ) as t
    ), account_ids as (
      select source_account_id as id from pending
      union
      select destination_account_id from pending
    ), heads as (
      select distinct on (partition) source_account_id, destination_account_id
      from pending
      order by partition, seq
    ), head_account_ids as (
      select source_account_id as id from heads
      union
      select destination_account_id from heads
    ), waited_accounts as (
      select a.*
      from (select id from head_account_ids order by id) as ids
      cross join lateral (
        select id, tenant_id, currency, balance, overdraft_limit, closed_at
        from accounts
        where accounts.id = ids.id
        for no key update
      ) as a
    ), locked_accounts as (
      select * from waited_accounts
      union all
      select a.*
      from (select id from account_ids except select id from head_account_ids
        order by id) as ids
      cross join lateral (
        select id, tenant_id, currency, balance, overdraft_limit, closed_at
        from accounts
        where accounts.id = ids.id and (select count(*) from waited_accounts) >= 0
        for no key update skip locked
      ) as a
    ), clock as (
      select clock_timestamp() as locked_at
      from (select count(*) from locked_accounts) as all_locked
    )
    select pending.*, clock.locked_at,
      s.tenant_id as source_tenant_id, s.currency as source_currency,
      s.balance as source_balance, s.overdraft_limit as source_overdraft_limit,
      s.closed_at as source_closed_at,
      d.tenant_id as destination_tenant_id, d.currency as destination_currency,
      d.balance as destination_balance, d.overdraft_limit as destination_overdraft_limit,
      d.closed_at as destination_closed_at
    from pending
    cross join clock
    left join locked_accounts s on s.id = pending.source_account_id
    left join locked_accounts d on d.id = pending.destination_account_id
    order by pending.seq`;
}

/**
 * The lock statement's rows as work: one transfer per row, each account
 * once; an account missing from a row is left out.
 */
export function partitionWorkOf(rows: readonly WorkRow[]): PartitionWork {
  const accounts = new Map<string, LedgerAccount>();
  const keep = (account: LedgerAccount | undefined) => {
    if (account) accounts.set(account.id, account);
  };
  const transfers = rows.map((row): TransferRow => {
    keep(sourceOf(row));
    keep(destinationOf(row));
    return {
      id: row.id,
      tenantId: row.tenantId,
      sourceAccountId: row.sourceAccountId,
      destinationAccountId: row.destinationAccountId,
      partition: row.partition,
      amount: row.amount,
      currency: row.currency,
      description: row.description,
      metadata: row.metadata,
      status: row.status,
      failureCode: row.failureCode,
      attempt: row.attempt,
      previousAttemptId: row.previousAttemptId,
      createdAt: row.createdAt,
      postedAt: row.postedAt,
      failedAt: row.failedAt,
    };
  });
  return { transfers, accounts: [...accounts.values()], lockedAt: rows[0]?.lockedAt ?? null };
}

function sourceOf(row: WorkRow): LedgerAccount | undefined {
  if (row.sourceTenantId === null) return undefined;
  return {
    id: row.sourceAccountId,
    tenantId: row.sourceTenantId,
    currency: row.sourceCurrency,
    balance: row.sourceBalance,
    overdraftLimit: row.sourceOverdraftLimit,
    closedAt: row.sourceClosedAt,
  };
}

function destinationOf(row: WorkRow): LedgerAccount | undefined {
  if (row.destinationTenantId === null) return undefined;
  return {
    id: row.destinationAccountId,
    tenantId: row.destinationTenantId,
    currency: row.destinationCurrency,
    balance: row.destinationBalance,
    overdraftLimit: row.destinationOverdraftLimit,
    closedAt: row.destinationClosedAt,
  };
}

/** An event to append with a settlement; `data` is its JSON text. */
export interface SettlementEvent {
  id: string;
  tenantId: string;
  type: string;
  data: string;
}

/**
 * Writes a decided batch in one statement: the entries, dated `settledAt`
 * like the transfers they post, the new balances and versions, each
 * transfer's final status as of `settledAt`, and the events that report
 * them, queued for the webhook dispatcher and the sequencer as `appendEvents`
 * queues its own (`OUTBOX_WRITES`). Every transfer must still be pending and
 * every account present: they are locked, so anything else is a bug, and the
 * statement fails (`fail_unless`), writing nothing. It checks itself because
 * its COMMIT is sent with it. The accounts and transfers it updates are also
 * named in an `= any` of their ids, so that every plan, a generic one made
 * while the tables were small included, finds them through their key
 * instead of joining a whole table.
 */
export function writeSettlement(
  tx: Db,
  settlement: {
    entries: NewEntry[];
    balances: BalanceChange[];
    outcomes: TransferOutcome[];
    events: SettlementEvent[];
    settledAt: Date;
  },
): Statement<{ checked: boolean }[]> {
  const { entries, balances, outcomes, events, settledAt } = settlement;
  const column = <T, V>(rows: T[], pick: (row: T) => V) => rows.map(pick);
  return tx<{ checked: boolean }[]>`
    with new_entries as (
      insert into entries (id, tenant_id, account_id, transfer_id, amount, balance_after,
        created_at)
      select *, ${settledAt}::timestamptz from unnest(
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
      where a.id = v.id and a.id = any(${column(balances, (b) => b.accountId)}::text[])
      returning a.id
    ), fresh_events as (
      select n.id, n.tenant_id, n.type, n.data::jsonb as data, n.ordinal
      from unnest(
        ${column(events, (e) => e.id)}::text[],
        ${column(events, (e) => e.tenantId)}::text[],
        ${column(events, (e) => e.type)}::text[],
        ${column(events, (e) => e.data)}::text[])
        with ordinality as n (id, tenant_id, type, data, ordinal)
    ), ${tx.unsafe(OUTBOX_WRITES)}, settled as (
      update transfers t
      set status = v.status,
        failure_code = v.failure_code,
        posted_at = case when v.status = 'posted' then ${settledAt}::timestamptz end,
        failed_at = case when v.status = 'failed' then ${settledAt}::timestamptz end
      from unnest(
        ${column(outcomes, (o) => o.transferId)}::text[],
        ${column(outcomes, (o) => o.status)}::text[],
        ${column(outcomes, (o) => o.failureCode)}::text[],
        ${column(outcomes, () => 'pending')}::text[])
        as v (id, status, failure_code, locked_status)
      -- Compared with the row's input rather than a constant, the status
      -- gives no partial index of pending transfers a way in: each transfer
      -- is found by its id, however few pending rows the statistics expect.
      where t.id = v.id and t.status = v.locked_status
        and t.id = any(${column(outcomes, (o) => o.transferId)}::text[])
      returning t.id
    )
    select fail_unless(counts.settled = counts.outcomes,
        format('settled %s of %s locked transfers', counts.settled, counts.outcomes))
      and fail_unless(counts.balances = counts.accounts,
        format('updated %s of %s locked accounts', counts.balances, counts.accounts)) as checked
    from (select (select count(*) from settled) as settled,
      (select count(*) from new_balances) as balances,
      ${outcomes.length}::int8 as outcomes, ${balances.length}::int8 as accounts) as counts`;
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
