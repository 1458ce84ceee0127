import type { Db, TransactionSql } from '../db/sql.js';
import { PARTITION_LOCK_NAMESPACE } from './ledger.js';

/** Second key, under the apply namespace, of the lock only one sweeper holds at a time. */
const SWEEPER_LOCK_KEY = -1;

/** True if this transaction now holds the sweeper lock; it is released at commit. */
export async function tryLockSweeper(tx: TransactionSql): Promise<boolean> {
  const [row] = await tx<{ locked: boolean }[]>`
    select pg_try_advisory_xact_lock(${PARTITION_LOCK_NAMESPACE}::int4, ${SWEEPER_LOCK_KEY}::int4)
      as locked`;
  return row?.locked === true;
}

export interface StalePendingTransfer {
  id: string;
  tenantId: string;
  sourceAccountId: string;
  partition: number;
}

/**
 * Transfers still pending `olderThanMs` after they were accepted, oldest
 * first. `attempt > 0` holds for every transfer; stating it lets this query,
 * and no other, use the index `transfers_pending_age` (migration 0010).
 */
export async function findStalePendingTransfers(
  db: Db,
  olderThanMs: number,
  limit: number,
): Promise<StalePendingTransfer[]> {
  return db<StalePendingTransfer[]>`
    select id, tenant_id, source_account_id, partition
    from transfers
    where status = 'pending' and attempt > 0
      and created_at < clock_timestamp() - make_interval(secs => ${olderThanMs / 1000}::float8)
    order by created_at
    limit ${limit}`;
}

/** Deletes up to `limit` expired idempotency records; returns how many went. */
export async function deleteExpiredIdempotencyKeys(db: Db, limit: number): Promise<number> {
  const result = await db`
    delete from idempotency_keys
    where id in (
      select id from idempotency_keys
      where expires_at < now()
      order by expires_at
      limit ${limit}
      for update skip locked)`;
  return result.count;
}
