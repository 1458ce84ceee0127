import type { Sql } from '../db/sql.js';
import { sinceStart } from './clock.js';

export interface Settlement {
  transfers: number;
  posted: number;
  failed: number;
  pending: number;
  /** Run-clock seconds of the first acceptance, the first and the last final status. */
  firstAccepted: number;
  firstSettled: number;
  lastSettled: number;
  /** Settled transfers over the time from the first acceptance to the last final status. */
  settledPerSecond: number;
  /** Settled transfers over the time from the first final status to the last: apply speed. */
  drainPerSecond: number;
  /** From `created_at` to `posted_at`, in milliseconds. */
  acceptToPostedMs: { p50: number; p99: number; max: number };
}

interface SettlementRow {
  transfers: bigint;
  posted: bigint;
  failed: bigint;
  pending: bigint;
  firstAccepted: Date | null;
  firstSettled: Date | null;
  lastSettled: Date | null;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** How many of the tenant's transfers are final and how many pending, as PostgreSQL sees it now. */
export async function countSettled(
  sql: Sql,
  tenantId: string,
): Promise<{ settled: number; pending: number }> {
  const [row] = await sql<{ settled: bigint; pending: bigint }[]>`
    select count(*) filter (where status <> 'pending') as settled,
      count(*) filter (where status = 'pending') as pending
    from transfers where tenant_id = ${tenantId}`;
  return { settled: Number(row?.settled ?? 0n), pending: Number(row?.pending ?? 0n) };
}

/** The tenant's transfers summed up from their own timestamps. */
export async function measureSettlement(sql: Sql, tenantId: string): Promise<Settlement> {
  const [row] = await sql<SettlementRow[]>`
    select count(*) as transfers,
      count(*) filter (where status = 'posted') as posted,
      count(*) filter (where status = 'failed') as failed,
      count(*) filter (where status = 'pending') as pending,
      min(created_at) as first_accepted,
      min(coalesce(posted_at, failed_at)) as first_settled,
      max(coalesce(posted_at, failed_at)) as last_settled,
      percentile_cont(0.5) within group (order by waited) as p50,
      percentile_cont(0.99) within group (order by waited) as p99,
      max(waited) as max
    from transfers,
      lateral (select (extract(epoch from posted_at - created_at) * 1000)::float8 as waited) w
    where tenant_id = ${tenantId}`;
  if (!row) throw new Error('the settlement query returned nothing');
  const first = row.firstAccepted ? sinceStart(row.firstAccepted) : 0;
  const last = row.lastSettled ? sinceStart(row.lastSettled) : first;
  const firstSettled = row.firstSettled ? sinceStart(row.firstSettled) : last;
  const settled = Number(row.posted + row.failed);
  return {
    transfers: Number(row.transfers),
    posted: Number(row.posted),
    failed: Number(row.failed),
    pending: Number(row.pending),
    firstAccepted: first,
    firstSettled,
    lastSettled: last,
    settledPerSecond: last > first ? settled / (last - first) : 0,
    drainPerSecond: last > firstSettled ? settled / (last - firstSettled) : 0,
    acceptToPostedMs: { p50: ms(row.p50), p99: ms(row.p99), max: ms(row.max) },
  };
}

function ms(value: number | null): number {
  return value ?? 0;
}
