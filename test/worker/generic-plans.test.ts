import { beforeAll, describe, expect, it } from 'vitest';
import { lockPartitionWork } from '../../src/data/ledger.js';
import { createSql, type Sql } from '../../src/db/sql.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import { createApplyPool } from '../../src/worker/partition-applier.js';
import { createAccount, insertPendingTransfers, newTenant } from './fixtures.js';
import { useWorkerDatabase } from './support.js';

// A scratch database of its own: its tables stay a page or two, where a plan
// made for the parameters at hand would rather read a whole table.
const db = useWorkerDatabase();
let tenantId: string;
let source: string;
let destination: string;

beforeAll(async () => {
  tenantId = await newTenant(db.sql);
  source = await createAccount(db.sql, tenantId, { overdraftLimit: 1_000_000n });
  destination = await createAccount(db.sql, tenantId);
});

/**
 * The worker's apply pool (one connection, as `APPLY_TRANSACTIONS` is 1), so
 * that its prepared statements can be read back; or a pool planned as
 * PostgreSQL would by default.
 */
function onePool(asApplyPool: boolean): Sql {
  const pool = asApplyPool
    ? createApplyPool(db.config({ APPLY_TRANSACTIONS: '1' }))
    : createSql(db.config(), { max: 1, application: 'plans-test' });
  db.track(() => pool.end({ timeout: 5 }));
  return pool;
}

async function pendingPartition(count: number): Promise<number> {
  const specs = Array.from({ length: count }, () => ({ source, destination, amount: 5n }));
  const [first] = await insertPendingTransfers(db.sql, db.config(), tenantId, specs);
  if (!first) throw new Error('no transfer inserted');
  return first.partition;
}

/** How the lock statement read `accounts` and `transfers`, in a transaction rolled back. */
async function scansOfLockStatement(pool: Sql, partition: number) {
  let scans: { relname: string; seqScan: bigint; idxScan: bigint }[] = [];
  await pool
    .begin(async (tx) => {
      await lockPartitionWork(tx, [partition], 100);
      scans = await tx`
        select relname, seq_scan, idx_scan from pg_stat_xact_user_tables
        where relname in ('accounts', 'transfers') order by relname`;
      throw new Error('roll back');
    })
    .catch((error: unknown) => {
      if ((error as Error).message !== 'roll back') throw error;
    });
  return scans.map((scan) => ({ table: scan.relname, seq: scan.seqScan, index: scan.idxScan }));
}

describe("the apply pool's plans", () => {
  it('plans each apply statement once per connection, not at every execution', async () => {
    const pool = onePool(true);
    for (let round = 0; round < 3; round++) {
      const partition = await pendingPartition(2);
      const result = await applyPendingBatch(pool, partition, 100);
      expect(result.posted).toBe(2);
    }
    const prepared = await pool<{ statement: string; genericPlans: bigint; customPlans: bigint }[]>`
      select statement, generic_plans, custom_plans from pg_prepared_statements`;
    const lock = prepared.find((row) => row.statement.includes('partition_locks'));
    const settle = prepared.find((row) => row.statement.includes('new_entries'));
    for (const statement of [lock, settle]) {
      expect(statement?.customPlans).toBe(0n);
      expect(statement?.genericPlans).toBe(3n);
    }
  });

  it('reads accounts and pending transfers through their indexes, however small the tables', async () => {
    const partition = await pendingPartition(3);
    const generic = await scansOfLockStatement(onePool(true), partition);
    expect(generic.map((scan) => [scan.table, scan.seq])).toEqual([
      ['accounts', 0n],
      ['transfers', 0n],
    ]);
    for (const scan of generic) expect(scan.index).toBeGreaterThan(0n);
    // Planned for the parameters at hand instead, the same statement reads
    // the tiny accounts table whole: the settings above are what prevent it.
    const planned = await scansOfLockStatement(onePool(false), partition);
    expect(planned.find((scan) => scan.table === 'accounts')?.seq).toBeGreaterThan(0n);
  });
});
