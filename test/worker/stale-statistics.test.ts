import { beforeAll, describe, expect, it } from 'vitest';
import { lockPartitionWork } from '../../src/data/ledger.js';
import { createSql, type Sql } from '../../src/db/sql.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import { createAccount, insertPendingTransfers, newTenant } from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const BACKLOG = 6_000;
const BATCH = 10;

const db = useWorkerDatabase();
let partition: number;

// Statistics taken while nothing was pending, as after a quiet spell, then a
// backlog: the case in which a plan could read every pending transfer.
beforeAll(async () => {
  const tenantId = await newTenant(db.sql);
  const sources = await Promise.all(
    Array.from({ length: 40 }, () =>
      createAccount(db.sql, tenantId, { overdraftLimit: 10n ** 9n }),
    ),
  );
  const destination = await createAccount(db.sql, tenantId);
  const transfers = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      source: sources[i % sources.length] ?? '',
      destination,
      amount: 1n,
    }));
  const settled = await insertPendingTransfers(db.sql, db.config(), tenantId, transfers(2_000));
  for (const p of new Set(settled.map((transfer) => transfer.partition))) {
    while ((await applyPendingBatch(db.sql, p, 1_000)).settled.length > 0) {}
  }
  await db.sql`analyze transfers`;
  const backlog = await insertPendingTransfers(db.sql, db.config(), tenantId, transfers(BACKLOG));
  partition = backlog[0]?.partition ?? 0;
});

/** Rows of `transfers` this session has read so far, by any scan. */
async function transferRowsRead(pool: Sql): Promise<bigint> {
  // This session's counts reach the view once it flushes them: forced here,
  // they go when this statement ends, before the next one reads the view.
  await pool`select pg_stat_force_next_flush()`;
  const [row] = await pool<{ read: bigint }[]>`
    select seq_tup_read + coalesce(idx_tup_fetch, 0) as read
    from pg_stat_user_tables where relname = 'transfers'`;
  return row?.read ?? -1n;
}

/** Rows of `transfers` that `work` read, on a session of its own. */
async function rowsReadBy(work: (pool: Sql) => Promise<unknown>): Promise<bigint> {
  const pool = createSql(db.config(), { max: 1, application: 'stale-statistics-test' });
  db.track(() => pool.end({ timeout: 5 }));
  const before = await transferRowsRead(pool);
  await work(pool);
  return (await transferRowsRead(pool)) - before;
}

describe('apply statements after statistics taken with nothing pending', () => {
  it('the lock statement reads one batch of its partition, not the backlog', async () => {
    const read = await rowsReadBy((pool) =>
      pool
        .begin(async (tx) => {
          expect(await lockPartitionWork(tx, [partition], BATCH)).toHaveLength(BATCH);
          throw new Error('roll back');
        })
        .catch((error: unknown) => {
          if ((error as Error).message !== 'roll back') throw error;
        }),
    );
    expect(read).toBeGreaterThan(0n);
    expect(read).toBeLessThanOrEqual(BigInt(2 * BATCH));
  });

  it('an apply transaction reads about its own batch of transfers', async () => {
    let posted = 0;
    const read = await rowsReadBy(async (pool) => {
      posted = (await applyPendingBatch(pool, partition, BATCH)).posted;
    });
    expect(posted).toBe(BATCH);
    expect(read).toBeGreaterThan(0n);
    expect(read).toBeLessThanOrEqual(BigInt(4 * BATCH));
  });
});
