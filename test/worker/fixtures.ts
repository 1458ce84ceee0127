import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import type { Config } from '../../src/config.js';
import { createSql, type Sql, type TransactionSql } from '../../src/db/sql.js';
import { newId } from '../../src/lib/ids.js';
import { partitionOf } from '../../src/queue/partitions.js';
import type { TransferQueues } from '../../src/queue/transfer-queues.js';
import type { Redis } from '../../src/redis/connection.js';
import { deleteKeysMatching } from '../../src/redis/delete-keys.js';
import { createTenant } from '../../src/services/tenants.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/databases.js';

/** A freshly migrated database of the worker tests' own. */
export function createWorkerDatabase(): Promise<string> {
  return createScratchDatabase('w');
}

export { dropScratchDatabase };

export function connect(config: Config, application = 'worker-test'): Sql {
  return createSql(config, { max: 4, application });
}

export async function newTenant(sql: Sql): Promise<string> {
  const { tenant } = await createTenant(sql, `worker test ${randomBytes(3).toString('hex')}`);
  return tenant.id;
}

export async function createAccount(
  sql: Sql,
  tenantId: string,
  options: { overdraftLimit?: bigint; currency?: string; closed?: boolean } = {},
): Promise<string> {
  const id = newId('acct');
  await sql`
    insert into accounts (id, tenant_id, currency, overdraft_limit, closed_at)
    values (${id}, ${tenantId}, ${options.currency ?? 'USD'},
      ${(options.overdraftLimit ?? 0n).toString()},
      ${options.closed ? new Date() : null})`;
  return id;
}

export async function createAccounts(
  sql: Sql,
  tenantId: string,
  count: number,
  overdraftLimit = 0n,
): Promise<string[]> {
  const rows = Array.from({ length: count }, () => ({
    id: newId('acct'),
    tenantId,
    currency: 'USD',
    overdraftLimit: overdraftLimit.toString(),
  }));
  await sql`insert into accounts ${sql(rows, 'id', 'tenantId', 'currency', 'overdraftLimit')}`;
  return rows.map((row) => row.id);
}

export interface TransferSpec {
  source: string;
  destination: string;
  amount: bigint | number;
  metadata?: Record<string, unknown>;
}

export interface PendingFixture {
  id: string;
  tenantId: string;
  partition: number;
}

/**
 * Records transfers as accepted (pending), in the order given: `seq` follows
 * it, as it follows acceptance order in the API.
 */
export async function insertPendingTransfers(
  sql: Sql,
  config: Pick<Config, 'PARTITIONS'>,
  tenantId: string,
  specs: TransferSpec[],
): Promise<PendingFixture[]> {
  const out: PendingFixture[] = [];
  for (let start = 0; start < specs.length; start += 1_000) {
    const rows = specs.slice(start, start + 1_000).map((spec) => ({
      id: newId('tr'),
      tenantId,
      sourceAccountId: spec.source,
      destinationAccountId: spec.destination,
      partition: partitionOf(spec.source, config.PARTITIONS),
      amount: spec.amount.toString(),
      currency: 'USD',
      metadata: sql.json((spec.metadata ?? {}) as never),
    }));
    await sql`
      insert into transfers ${sql(
        rows,
        'id',
        'tenantId',
        'sourceAccountId',
        'destinationAccountId',
        'partition',
        'amount',
        'currency',
        'metadata',
      )}`;
    out.push(...rows.map((row) => ({ id: row.id, tenantId, partition: row.partition })));
  }
  return out;
}

export async function enqueueAll(
  queues: TransferQueues,
  transfers: PendingFixture[],
): Promise<void> {
  for (let start = 0; start < transfers.length; start += 500) {
    await Promise.all(
      transfers.slice(start, start + 500).map((transfer) =>
        queues.enqueue(transfer.partition, {
          transferId: transfer.id,
          tenantId: transfer.tenantId,
        }),
      ),
    );
  }
}

export async function waitUntil(
  label: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${label}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function statusCounts(sql: Sql, tenantId: string) {
  const rows = await sql<{ status: string; count: bigint }[]>`
    select status, count(*) as count from transfers where tenant_id = ${tenantId} group by status`;
  const counts = { pending: 0, posted: 0, failed: 0 };
  for (const row of rows) counts[row.status as keyof typeof counts] = Number(row.count);
  return counts;
}

export async function waitForFinal(sql: Sql, tenantId: string, timeoutMs = 15_000) {
  await waitUntil(
    'every transfer is final',
    async () => (await statusCounts(sql, tenantId)).pending === 0,
    timeoutMs,
  );
  return statusCounts(sql, tenantId);
}

export async function statuses(sql: Sql, ids: string[]) {
  const rows = await sql<{ id: string; status: string; failureCode: string | null }[]>`
    select id, status, failure_code from transfers where id = any(${ids}::text[])`;
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id);
    return row ? `${row.status}${row.failureCode ? `:${row.failureCode}` : ''}` : 'missing';
  });
}

/**
 * Every ledger invariant of one tenant, as numbers a test compares with zero:
 * each is a count of violations or a sum that must balance.
 */
export async function ledgerReport(sql: Sql, tenantId: string) {
  const [row] = await sql<
    {
      posted: bigint;
      entries: bigint;
      badPosted: bigint;
      entriesOfUnposted: bigint;
      driftedAccounts: bigint;
      tenantSum: bigint;
      belowOverdraft: bigint;
      brokenChains: bigint;
      eventsMissingOrDoubled: bigint;
      queueMismatches: bigint;
    }[]
  >`
    with t as (select * from transfers where tenant_id = ${tenantId}),
    e as (select * from entries where tenant_id = ${tenantId}),
    per_transfer as (
      select t.id, t.status, t.amount, count(e.id) as n, coalesce(sum(e.amount), 0) as total,
        coalesce(sum(e.amount) filter (where e.account_id = t.source_account_id), 0) as debit
      from t left join e on e.transfer_id = t.id
      group by t.id, t.status, t.amount),
    evs as (
      select data->>'id' as transfer_id, type from events where tenant_id = ${tenantId}
        and type in ('transfer.posted', 'transfer.failed'))
    select
      (select count(*) from t where status = 'posted') as posted,
      (select count(*) from e) as entries,
      (select count(*) from per_transfer
        where status = 'posted' and (n <> 2 or total <> 0 or debit <> -amount)) as bad_posted,
      (select count(*) from per_transfer where status <> 'posted' and n <> 0)
        as entries_of_unposted,
      (select count(*) from accounts a where a.tenant_id = ${tenantId} and a.balance <>
        coalesce((select sum(amount) from e where e.account_id = a.id), 0)) as drifted_accounts,
      (select coalesce(sum(balance), 0)::int8 from accounts where tenant_id = ${tenantId})
        as tenant_sum,
      (select count(*) from e join accounts a on a.id = e.account_id
        where e.balance_after < -a.overdraft_limit) as below_overdraft,
      (select count(*) from (
        select balance_after,
          sum(amount) over (partition by account_id order by seq) as running
        from e) chain where balance_after <> running) as broken_chains,
      (select count(*) from t where status <> 'pending'
        and (select count(*) from evs where evs.transfer_id = t.id) <> 1)
        + (select count(*) from evs left join t on t.id = evs.transfer_id
          where t.id is null or evs.type <> 'transfer.' || t.status)
        as events_missing_or_doubled,
      (select count(*) from t where (t.status = 'pending') <> exists (
          select 1 from pending_transfers q where q.transfer_id = t.id))
        + (select count(*) from pending_transfers q join t on t.id = q.transfer_id
          where (q.partition, q.seq, q.created_at) <> (t.partition, t.seq, t.created_at))
        as queue_mismatches`;
  if (!row) throw new Error('no report');
  return {
    posted: Number(row.posted),
    entries: Number(row.entries),
    badPosted: Number(row.badPosted),
    entriesOfUnposted: Number(row.entriesOfUnposted),
    driftedAccounts: Number(row.driftedAccounts),
    tenantSum: row.tenantSum,
    belowOverdraft: Number(row.belowOverdraft),
    brokenChains: Number(row.brokenChains),
    eventsMissingOrDoubled: Number(row.eventsMissingOrDoubled),
    queueMismatches: Number(row.queueMismatches),
  };
}

/** The report every settled tenant must give. */
export function healthyLedger(posted: number) {
  return {
    posted,
    entries: 2 * posted,
    badPosted: 0,
    entriesOfUnposted: 0,
    driftedAccounts: 0,
    tenantSum: 0n,
    belowOverdraft: 0,
    brokenChains: 0,
    eventsMissingOrDoubled: 0,
    queueMismatches: 0,
  };
}

export async function balanceOf(sql: Sql, accountId: string): Promise<bigint> {
  const [row] = await sql<{ balance: bigint }[]>`
    select balance from accounts where id = ${accountId}`;
  if (!row) throw new Error(`no account ${accountId}`);
  return row.balance;
}

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger whose records a test can read. */
export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() !== '') records.push(JSON.parse(line) as LogRecord);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

/** Removes one test prefix's keys, as if Redis lost them; nothing else is touched. */
export function wipePrefix(redis: Redis, prefix: string): Promise<number> {
  return deleteKeysMatching(redis, `${prefix}:*`);
}

/** The SQLSTATE a statement fails with, or 'ok' if it succeeds. */
export async function outcomeOf(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
    return 'ok';
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
}

/**
 * How a piece of work used a table: scans of each kind, rows read by either,
 * and rows updated, with those updated in place (heap-only: no new index
 * entries).
 */
export interface TableReads {
  seqScans: bigint;
  indexScans: bigint;
  rowsRead: bigint;
  updates: bigint;
  inPlaceUpdates: bigint;
}

/** A table whose use a test counts. */
export type ReadTable = 'transfers' | 'accounts' | 'pending_transfers';

/**
 * How `table` has been used so far, as `sql` (one connection) sees it. A
 * session's counts reach `pg_stat_user_tables` only once it flushes them,
 * which it is made to do first; the transaction-level view would also show
 * counts of earlier transactions of the session not yet flushed.
 */
export async function tableReads(sql: Sql, table: ReadTable): Promise<TableReads> {
  await sql`select pg_stat_force_next_flush()`;
  const [row] = await sql<TableReads[]>`
    select seq_scan as seq_scans, coalesce(idx_scan, 0) as index_scans,
      seq_tup_read + coalesce(idx_tup_fetch, 0) as rows_read,
      n_tup_upd as updates, n_tup_hot_upd as in_place_updates
    from pg_stat_user_tables where relname = ${table}`;
  if (!row) throw new Error(`no statistics for ${table}`);
  return row;
}

export function readsBetween(before: TableReads, after: TableReads): TableReads {
  return {
    seqScans: after.seqScans - before.seqScans,
    indexScans: after.indexScans - before.indexScans,
    rowsRead: after.rowsRead - before.rowsRead,
    updates: after.updates - before.updates,
    inPlaceUpdates: after.inPlaceUpdates - before.inPlaceUpdates,
  };
}

/** Runs `work` on a session of its own and answers how it read `table`. */
export async function readsBy(
  config: Config,
  table: ReadTable,
  work: (sql: Sql) => Promise<unknown>,
): Promise<TableReads> {
  const sql = createSql(config, { max: 1, application: 'table-reads-test' });
  try {
    const before = await tableReads(sql, table);
    await work(sql);
    return readsBetween(before, await tableReads(sql, table));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Runs `work` in a transaction that is then rolled back. */
export async function rolledBack(sql: Sql, work: (tx: TransactionSql) => Promise<unknown>) {
  await sql
    .begin(async (tx) => {
      await work(tx);
      throw new RollBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
}

class RollBack extends Error {}
