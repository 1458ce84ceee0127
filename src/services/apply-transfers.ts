import {
  APPLY_SETTINGS,
  type BalanceChange,
  type LedgerAccount,
  lockPartitionWork,
  type NewEntry,
  type PendingTransfer,
  partitionWorkOf,
  type SettlementEvent,
  type TransferOutcome,
  writeSettlement,
} from '../data/ledger.js';
import { type Sql, withTwoStatements } from '../db/sql.js';
import { newId } from '../lib/ids.js';
import { MAX_BALANCE, type TransferRow, transferView } from './views.js';

export interface SettledTransfer {
  id: string;
  tenantId: string;
  status: TransferOutcome['status'];
}

export interface BatchResult {
  /** The transfers this call settled, in acceptance order. */
  settled: SettledTransfer[];
  posted: number;
  failed: number;
  /**
   * Transfers left pending because another transaction held one of their
   * accounts, or an earlier transfer left so named their source.
   */
  deferred: number;
}

export type ApplyBatch = (sql: Sql, partition: number, batchSize: number) => Promise<BatchResult>;

/** The decisions of one batch, computed from locked rows before anything is written. */
export interface Settlement {
  outcomes: TransferOutcome[];
  entries: NewEntry[];
  balances: BalanceChange[];
  /** The transfers left pending for a later batch, in acceptance order. */
  deferred: PendingTransfer[];
}

/**
 * Applies the oldest pending transfers of each partition given, at most
 * `batchSize` of each, in one READ COMMITTED transaction: all of them settle
 * or none does. Answers one result per distinct partition, in the order the
 * partitions were given.
 *
 * Rules:
 * - An advisory lock on each partition lets one transaction at a time apply
 *   it, even if the queue's own lock lapsed (a stalled job, Redis wiped).
 * - Transfers are taken in `seq` (acceptance) order and locked, with their
 *   accounts in id order. An account that another transaction holds is
 *   skipped, unless a partition's oldest transfer names it, and the
 *   transfers that name it are deferred: they stay pending for a later
 *   batch. So transactions of different partitions that share an account
 *   neither deadlock nor, as a rule, queue behind each other. Every batch
 *   settles its oldest transfer, and each partition's unless an earlier
 *   transfer of the batch, deferred, was to credit its source
 *   (`lockPartitionWork`, `settleInOrder`).
 *   The decided batch is written in one more statement, with an event per
 *   transfer: two round trips in all, however large, BEGIN sent with the
 *   first statement and COMMIT with the second (`withTwoStatements`), and
 *   with planner settings of the transaction's own (`APPLY_SETTINGS`).
 * - A closed source or destination fails the transfer with `account_closed`;
 *   a debit that would take the source below `-overdraft_limit` fails it with
 *   `insufficient_funds`; a credit that would take the destination above
 *   2^53-1, the largest balance JSON carries exactly, fails it with
 *   `balance_limit_exceeded`; otherwise it posts two equal and opposite
 *   entries.
 *   These are final outcomes, decided against running balances in seq order.
 * - A currency or tenant that differs between a transfer and its accounts is
 *   a bug in acceptance, not an outcome: it throws and settles nothing.
 * - Serialization failures and deadlocks re-run the transaction; any other
 *   error (a lost connection, say) rolls it back and reaches the caller, so a
 *   transient fault leaves transfers pending and never fails one.
 *
 * Per-source order does not depend on the queue: whichever job runs, and
 * however often it was retried or overtaken by a later one, it applies the
 * oldest pending transfers of the partition first, so a later transfer of a
 * source can never be applied before an earlier one. A transfer that is no
 * longer pending is never selected, so running this again is harmless.
 */
export async function applyPendingPartitions(
  sql: Sql,
  partitions: number[],
  batchSize: number,
): Promise<Map<number, BatchResult>> {
  const distinct = [...new Set(partitions)];
  // Set by the attempt that committed: `next` runs once per attempt whose
  // lock statement succeeded, and only a committed attempt returns.
  let rows: TransferRow[] = [];
  let deferred: TransferRow[] = [];
  await withTwoStatements(
    sql,
    (db) => lockPartitionWork(db, distinct, batchSize),
    (locked, db) => {
      rows = [];
      deferred = [];
      const work = partitionWorkOf(locked);
      if (work.transfers.length === 0 || work.lockedAt === null) return null;

      const settlement = settleInOrder(work.transfers, work.accounts, headAccounts(work.transfers));
      const left = new Set(settlement.deferred.map((transfer) => transfer.id));
      deferred = work.transfers.filter((transfer) => left.has(transfer.id));
      if (settlement.outcomes.length === 0) return null;
      rows = settledRows(work.transfers, settlement.outcomes, work.lockedAt);
      return writeSettlement(db, {
        ...settlement,
        events: rows.map(eventOf),
        settledAt: work.lockedAt,
      });
    },
    { settings: APPLY_SETTINGS },
  );
  return new Map(
    distinct.map((partition) => [
      partition,
      summarize(
        rows.filter((row) => row.partition === partition),
        deferred.filter((transfer) => transfer.partition === partition),
      ),
    ]),
  );
}

/** `applyPendingPartitions` for one partition. */
export async function applyPendingBatch(
  sql: Sql,
  partition: number,
  batchSize: number,
): Promise<BatchResult> {
  const results = await applyPendingPartitions(sql, [partition], batchSize);
  return results.get(partition) ?? summarize([], []);
}

/** The accounts of each partition's oldest transfer, which the lock statement waits for. */
function headAccounts(transfers: TransferRow[]): Set<string> {
  const heads = new Map<number, TransferRow>();
  for (const transfer of transfers) {
    if (!heads.has(transfer.partition)) heads.set(transfer.partition, transfer);
  }
  return new Set(
    [...heads.values()].flatMap((head) => [head.sourceAccountId, head.destinationAccountId]),
  );
}

/**
 * Decides each transfer in order against running balances and builds the
 * entries and the new balances. A transfer whose account is not among
 * `accounts` (another transaction held it) is deferred, and so is every
 * later transfer from its source, which must not overtake it, or from its
 * destination, which must not be decided without its credit. An account that
 * was waited for (`waitedFor`) is always locked unless it does not exist,
 * which is a bug. Pure apart from entry ids; writes nothing.
 */
export function settleInOrder(
  transfers: PendingTransfer[],
  accounts: LedgerAccount[],
  waitedFor: ReadonlySet<string> = new Set(),
): Settlement {
  const book = new Map(
    accounts.map((account) => [account.id, { account, balance: account.balance, postings: 0 }]),
  );
  const outcomes: TransferOutcome[] = [];
  const entries: NewEntry[] = [];
  const deferred: PendingTransfer[] = [];
  const heldBack = new Set<string>();

  for (const transfer of transfers) {
    const source = book.get(transfer.sourceAccountId);
    const destination = book.get(transfer.destinationAccountId);
    if (!source || !destination || heldBack.has(transfer.sourceAccountId)) {
      for (const id of [transfer.sourceAccountId, transfer.destinationAccountId]) {
        if (!book.has(id) && waitedFor.has(id)) {
          throw new Error(`transfer ${transfer.id} names account ${id}, which does not exist`);
        }
      }
      // Later debits of either account wait too: of the source, for order;
      // of the destination, so that none is decided without this credit.
      heldBack.add(transfer.sourceAccountId);
      heldBack.add(transfer.destinationAccountId);
      deferred.push(transfer);
      continue;
    }
    assertConsistent(transfer, source.account);
    assertConsistent(transfer, destination.account);

    if (source.account.closedAt !== null || destination.account.closedAt !== null) {
      outcomes.push({ transferId: transfer.id, status: 'failed', failureCode: 'account_closed' });
      continue;
    }
    if (source.balance - transfer.amount < -source.account.overdraftLimit) {
      outcomes.push({
        transferId: transfer.id,
        status: 'failed',
        failureCode: 'insufficient_funds',
      });
      continue;
    }
    if (destination.balance + transfer.amount > MAX_BALANCE) {
      outcomes.push({
        transferId: transfer.id,
        status: 'failed',
        failureCode: 'balance_limit_exceeded',
      });
      continue;
    }

    source.balance -= transfer.amount;
    destination.balance += transfer.amount;
    source.postings += 1;
    destination.postings += 1;
    entries.push(
      entryOf(transfer, source.account.id, -transfer.amount, source.balance),
      entryOf(transfer, destination.account.id, transfer.amount, destination.balance),
    );
    outcomes.push({ transferId: transfer.id, status: 'posted', failureCode: null });
  }

  const balances = [...book.values()]
    .filter((line) => line.postings > 0)
    .map((line) => ({
      accountId: line.account.id,
      balance: line.balance,
      postings: line.postings,
    }));
  return { outcomes, entries, balances, deferred };
}

function assertConsistent(transfer: PendingTransfer, account: LedgerAccount): void {
  if (account.tenantId !== transfer.tenantId || account.currency !== transfer.currency) {
    throw new Error(
      `transfer ${transfer.id} does not match account ${account.id} in tenant or currency`,
    );
  }
}

function entryOf(
  transfer: PendingTransfer,
  accountId: string,
  amount: bigint,
  balanceAfter: bigint,
): NewEntry {
  return {
    id: newId('ent'),
    tenantId: transfer.tenantId,
    accountId,
    transferId: transfer.id,
    amount,
    balanceAfter,
  };
}

/** The transfers as they are once settled at `settledAt`, in the order of `outcomes`. */
function settledRows(
  transfers: TransferRow[],
  outcomes: TransferOutcome[],
  settledAt: Date,
): TransferRow[] {
  const byId = new Map(transfers.map((transfer) => [transfer.id, transfer]));
  return outcomes.map((outcome) => {
    const transfer = byId.get(outcome.transferId);
    if (!transfer) throw new Error(`outcome for transfer ${outcome.transferId}, never locked`);
    return {
      ...transfer,
      status: outcome.status,
      failureCode: outcome.failureCode,
      postedAt: outcome.status === 'posted' ? settledAt : null,
      failedAt: outcome.status === 'failed' ? settledAt : null,
    };
  });
}

/** The event that reports a settled transfer: the transfer as a client reads it. */
function eventOf(row: TransferRow): SettlementEvent {
  return {
    id: newId('evt'),
    tenantId: row.tenantId,
    type: row.status === 'posted' ? 'transfer.posted' : 'transfer.failed',
    data: JSON.stringify(transferView(row)),
  };
}

function summarize(rows: TransferRow[], deferred: PendingTransfer[]): BatchResult {
  const settled = rows.map((row) => ({
    id: row.id,
    tenantId: row.tenantId,
    status: row.status === 'posted' ? ('posted' as const) : ('failed' as const),
  }));
  const posted = settled.filter((transfer) => transfer.status === 'posted').length;
  return { settled, posted, failed: settled.length - posted, deferred: deferred.length };
}
