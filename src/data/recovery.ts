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
 * first, found through the index of `pending_transfers` by age (migration
 * 0013).
 */
export async function findStalePendingTransfers(
  db: Db,
  olderThanMs: number,
  limit: number,
): Promise<StalePendingTransfer[]> {
  return db<StalePendingTransfer[]>`
    select t.id, t.tenant_id, t.source_account_id, t.partition
    from (
      select q.transfer_id, q.created_at from pending_transfers q
      where q.created_at < clock_timestamp() - make_interval(secs => ${olderThanMs / 1000}::float8)
      order by q.created_at
      limit ${limit}
    ) as q
    join transfers t on t.id = q.transfer_id and t.status = 'pending'
    order by q.created_at`;
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
