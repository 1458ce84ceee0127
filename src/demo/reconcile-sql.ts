import type { Config } from '../config.js';
import { createSql, type TransactionSql } from '../db/sql.js';
import type { Check } from './checks.js';
import type { ReplayPlan } from './plan.js';

interface TransferCounts {
  total: bigint;
  posted: bigint;
  failed: bigint;
  pending: bigint;
  postedMovements: bigint;
}

interface EntryCounts {
  entries: bigint;
  transfers: bigint;
  total: bigint;
}

interface CurrencyTotal {
  currency: string;
  accounts: bigint;
  total: bigint;
}

/**
 * The checks the API cannot answer, made in PostgreSQL in one read-only
 * transaction (one snapshot): how many transfers posted, per movement, and
 * the tenant's balances per currency.
 */
export async function reconcileDatabase(
  config: Config,
  tenantId: string,
  plan: ReplayPlan,
): Promise<Check[]> {
  const sql = createSql(config, { max: 1, application: 'fintech-core-demo-reconcile' });
  try {
    return await sql.begin('read only', async (tx) => {
      const transfers = await countTransfers(tx, tenantId);
      const entries = await countEntries(tx, tenantId);
      const currencies = await totalsByCurrency(tx, tenantId);
      return [postingsMatchMovements(plan, transfers, entries), zeroSumPerCurrency(currencies)];
    });
  } finally {
    await sql.end();
  }
}

/** (d) One posting per unique movement: replays and retries did not post twice. */
function postingsMatchMovements(
  plan: ReplayPlan,
  transfers: TransferCounts,
  entries: EntryCounts,
): Check {
  const movements = BigInt(plan.movements);
  const pass =
    transfers.posted === movements &&
    transfers.postedMovements === movements &&
    transfers.total === movements &&
    entries.entries === 2n * transfers.posted &&
    entries.transfers === transfers.posted &&
    entries.total === 0n;
  return {
    name: '(d) postings equal unique movements; no replay posted twice (PostgreSQL)',
    pass,
    detail:
      `${movements} unique movements; transfers ${transfers.total} ` +
      `(posted ${transfers.posted}, failed ${transfers.failed}, pending ${transfers.pending}), ` +
      `${transfers.postedMovements} distinct trans_ids posted; ` +
      `${entries.entries} entries over ${entries.transfers} transfers, summing to ${entries.total}`,
  };
}

/** (c) The same zero sum, straight from the accounts table, per currency. */
function zeroSumPerCurrency(currencies: readonly CurrencyTotal[]): Check {
  const parts = currencies.map((c) => `${c.currency}: ${c.accounts} accounts sum to ${c.total}`);
  return {
    name: "(c) the tenant's balances sum to zero per currency (PostgreSQL)",
    pass: currencies.length > 0 && currencies.every((c) => c.total === 0n),
    detail: parts.join('; ') || 'no accounts',
  };
}

async function countTransfers(tx: TransactionSql, tenantId: string): Promise<TransferCounts> {
  const [row] = await tx<TransferCounts[]>`
    select count(*) as total,
      count(*) filter (where status = 'posted') as posted,
      count(*) filter (where status = 'failed') as failed,
      count(*) filter (where status = 'pending') as pending,
      count(distinct metadata->>'trans_id') filter (where status = 'posted') as posted_movements
    from transfers where tenant_id = ${tenantId}`;
  if (!row) throw new Error('transfer counts returned nothing');
  return row;
}

async function countEntries(tx: TransactionSql, tenantId: string): Promise<EntryCounts> {
  const [row] = await tx<EntryCounts[]>`
    select count(*) as entries, count(distinct transfer_id) as transfers,
      coalesce(sum(amount), 0)::bigint as total
    from entries where tenant_id = ${tenantId}`;
  if (!row) throw new Error('entry counts returned nothing');
  return row;
}

async function totalsByCurrency(tx: TransactionSql, tenantId: string): Promise<CurrencyTotal[]> {
  return tx<CurrencyTotal[]>`
    select currency, count(*) as accounts, sum(balance)::bigint as total
    from accounts where tenant_id = ${tenantId}
    group by currency order by currency`;
}
