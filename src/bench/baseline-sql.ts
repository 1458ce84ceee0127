import type { Config } from '../config.js';
import { createSql, type Sql, type TransactionSql } from '../db/sql.js';
import { newId } from '../lib/ids.js';
import { type Pair, pairPicker, randomAmount, type ScenarioName } from './pairs.js';
import { BENCH_CURRENCY, seedTenant } from './seed.js';

export interface SqlBaselineResult {
  name: string;
  scenario: ScenarioName;
  connections: number;
  seconds: number;
  transfers: number;
  /** The mean of `passes`. */
  perSecond: number;
  /** Transfers per second of each pass: before the load runs, and after them. */
  passes: number[];
}

/**
 * What PostgreSQL alone does on this machine: the double-entry effect of one
 * transfer, written by hand as a plain application would, one transaction
 * per transfer, from `connections` connections at once for `seconds`. Each
 * transaction inserts the transfer as pending, debits the source under the
 * overdraft rule, credits the destination (the two rows in id order, so
 * that concurrent transfers wait rather than deadlock), writes the two
 * entries and marks the transfer posted.
 */
export async function runSqlBaseline(
  config: Config,
  setupSql: Sql,
  options: { scenario: ScenarioName; accounts: number; seconds: number; connections: number },
): Promise<SqlBaselineResult> {
  const tenant = await seedTenant(setupSql, `baseline ${options.scenario}`, options.accounts);
  const pick = pairPicker(options.scenario, tenant.accountIds);
  const sql = createSql(config, {
    max: options.connections,
    application: 'fintech-core-bench-baseline',
  });
  try {
    await sql`select 1`;
    const started = performance.now();
    const deadline = started + options.seconds * 1000;
    const lanes = Array.from({ length: options.connections }, async () => {
      let done = 0;
      while (performance.now() < deadline) {
        await sql.begin((tx) => transferOnce(tx, tenant.tenantId, pick(), randomAmount()));
        done++;
      }
      return done;
    });
    const transfers = (await Promise.all(lanes)).reduce((sum, done) => sum + done, 0);
    const seconds = (performance.now() - started) / 1000;
    const perSecond = transfers / seconds;
    return {
      name: `raw SQL, ${options.scenario}`,
      scenario: options.scenario,
      connections: options.connections,
      seconds,
      transfers,
      perSecond,
      passes: [perSecond],
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function transferOnce(
  tx: TransactionSql,
  tenantId: string,
  pair: Pair,
  amount: number,
): Promise<void> {
  const id = newId('tr');
  await tx`
    insert into transfers (id, tenant_id, source_account_id, destination_account_id, partition,
      amount, currency)
    values (${id}, ${tenantId}, ${pair.source}, ${pair.destination}, 0, ${amount},
      ${BENCH_CURRENCY})`;

  const debitFirst = pair.source < pair.destination;
  const debited = debitFirst ? await debit(tx, pair.source, amount) : undefined;
  const credited = await credit(tx, pair.destination, amount);
  const balanceAfter = debitFirst ? debited : await debit(tx, pair.source, amount);
  if (balanceAfter === undefined) {
    throw new Error('the raw-SQL baseline ran out of overdraft; its accounts are misconfigured');
  }

  const entries = [
    [newId('ent'), tenantId, pair.source, id, String(-amount), balanceAfter.toString()],
    [newId('ent'), tenantId, pair.destination, id, String(amount), credited.toString()],
  ];
  await tx`
    insert into entries (id, tenant_id, account_id, transfer_id, amount, balance_after)
    values ${tx(entries)}`;
  await tx`
    update transfers set status = 'posted', posted_at = statement_timestamp() where id = ${id}`;
}

async function debit(tx: TransactionSql, id: string, amount: number): Promise<bigint | undefined> {
  const [row] = await tx<{ balance: bigint }[]>`
    update accounts set balance = balance - ${amount}, version = version + 1
    where id = ${id} and balance - ${amount} >= -overdraft_limit
    returning balance`;
  return row?.balance;
}

async function credit(tx: TransactionSql, id: string, amount: number): Promise<bigint> {
  const [row] = await tx<{ balance: bigint }[]>`
    update accounts set balance = balance + ${amount}, version = version + 1
    where id = ${id}
    returning balance`;
  if (!row) throw new Error(`baseline account ${id} is missing`);
  return row.balance;
}
