import type { Sql, TransactionSql } from '../db/sql.js';

export interface LedgerCheck {
  name: string;
  pass: boolean;
  /** How many rows broke the rule (0 when it passed). */
  offenders: number;
}

/**
 * Checks, in one read-only snapshot of the whole benchmark database, that the
 * ledger still adds up. A fast wrong answer is a failure, so every run ends
 * with these:
 * - every posted transfer has exactly two entries, equal and opposite, of
 *   its amount, and a transfer that did not post has none;
 * - every account's balance equals the sum of its entries, and its latest
 *   entry's `balance_after`;
 * - each tenant's balances sum to zero per currency;
 * - no transfer is left pending, nor in the queue of pending transfers.
 */
export async function reconcileLedger(sql: Sql): Promise<LedgerCheck[]> {
  return (await sql.begin('isolation level repeatable read read only', async (tx) => [
    check('posted transfers have two opposite entries of their amount', await badEntries(tx)),
    check('account balances equal the sum of their entries', await badBalances(tx)),
    check('latest balance_after equals the balance', await badBalanceAfter(tx)),
    check("each tenant's balances sum to zero per currency", await unbalancedTenants(tx)),
    check('no transfer is left pending', await pendingTransfers(tx)),
    check('the queue of pending transfers is empty', await queuedTransfers(tx)),
  ])) as LedgerCheck[];
}

function check(name: string, offenders: number): LedgerCheck {
  return { name, pass: offenders === 0, offenders };
}

async function countOf(rows: Promise<{ n: bigint }[]>): Promise<number> {
  const [row] = await rows;
  return Number(row?.n ?? 0n);
}

function badEntries(tx: TransactionSql): Promise<number> {
  return countOf(tx<{ n: bigint }[]>`
    select count(*) as n
    from transfers t
    left join (
      select transfer_id, count(*) as lines, sum(amount) as total,
        sum(amount) filter (where amount > 0) as credited,
        count(distinct account_id) as accounts
      from entries group by transfer_id
    ) e on e.transfer_id = t.id
    where (t.status = 'posted' and (e.lines is distinct from 2 or e.total <> 0
        or e.credited <> t.amount or e.accounts <> 2))
      or (t.status <> 'posted' and e.lines is not null)`);
}

function badBalances(tx: TransactionSql): Promise<number> {
  return countOf(tx<{ n: bigint }[]>`
    select count(*) as n
    from accounts a
    left join (select account_id, sum(amount) as total from entries group by account_id) e
      on e.account_id = a.id
    where a.balance <> coalesce(e.total, 0)`);
}

function badBalanceAfter(tx: TransactionSql): Promise<number> {
  return countOf(tx<{ n: bigint }[]>`
    select count(*) as n
    from accounts a
    join lateral (
      select balance_after from entries where account_id = a.id order by seq desc limit 1
    ) latest on true
    where latest.balance_after <> a.balance`);
}

function unbalancedTenants(tx: TransactionSql): Promise<number> {
  return countOf(tx<{ n: bigint }[]>`
    select count(*) as n from (
      select tenant_id, currency from accounts
      group by tenant_id, currency having sum(balance) <> 0
    ) unbalanced`);
}

function pendingTransfers(tx: TransactionSql): Promise<number> {
  return countOf(tx<{ n: bigint }[]>`
    select count(*) as n from transfers where status = 'pending'`);
}

function queuedTransfers(tx: TransactionSql): Promise<number> {
  return countOf(tx<{ n: bigint }[]>`select count(*) as n from pending_transfers`);
}
