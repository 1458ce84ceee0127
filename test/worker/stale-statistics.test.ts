import { beforeAll, describe, expect, it } from 'vitest';
import { APPLY_SETTINGS, lockPartitionWork } from '../../src/data/ledger.js';
import { type Sql, setForTransaction } from '../../src/db/sql.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import {
  createAccount,
  createAccounts,
  insertPendingTransfers,
  newTenant,
  readsBy,
  rolledBack,
} from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const BACKLOG = 6_000;
const BATCH = 10;
/** Accounts no transfer names, so that reading all accounts shows. */
const IDLE_ACCOUNTS = 3_000;

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
  await createAccounts(db.sql, tenantId, IDLE_ACCOUNTS);
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

describe('apply statements after statistics taken with nothing pending', () => {
  it('the lock statement reads one batch of its partition, not the backlog', async () => {
    const reads = await readsBy(db.config(), 'transfers', (sql) =>
      rolledBack(sql, async (tx) => {
        expect(await lockPartitionWork(tx, [partition], BATCH)).toHaveLength(BATCH);
      }),
    );
    expect(reads.rowsRead).toBeGreaterThan(0n);
    expect(reads.rowsRead).toBeLessThanOrEqual(BigInt(2 * BATCH));
  });

  it('an apply transaction reads about its own batch of transfers', async () => {
    let posted = 0;
    const reads = await readsBy(db.config(), 'transfers', async (sql) => {
      posted = (await applyPendingBatch(sql, partition, BATCH)).posted;
    });
    expect(posted).toBe(BATCH);
    expect(reads.rowsRead).toBeGreaterThan(0n);
    expect(reads.rowsRead).toBeLessThanOrEqual(BigInt(4 * BATCH));
  });

  // Apply transactions keep one generic plan per statement, made without the
  // values (`APPLY_SETTINGS`): that plan too must find rows by key.
  it('the lock statement planned once for any values reads by key', async () => {
    const lock = (sql: Sql) =>
      rolledBack(sql, async (tx) => {
        await setForTransaction(tx, APPLY_SETTINGS);
        expect(await lockPartitionWork(tx, [partition], BATCH)).toHaveLength(BATCH);
      });
    const transfers = await readsBy(db.config(), 'transfers', lock);
    const accounts = await readsBy(db.config(), 'accounts', lock);
    const queued = await readsBy(db.config(), 'pending_transfers', lock);
    expect(transfers.rowsRead).toBeGreaterThan(0n);
    expect(transfers.rowsRead).toBeLessThanOrEqual(BigInt(2 * BATCH));
    expect(queued.seqScans).toBe(0n);
    expect(queued.rowsRead).toBeGreaterThan(0n);
    expect(queued.rowsRead).toBeLessThanOrEqual(BigInt(2 * BATCH));
    expect(accounts.seqScans).toBe(0n);
    expect(accounts.rowsRead).toBeGreaterThan(0n);
    expect(accounts.rowsRead).toBeLessThanOrEqual(BigInt(2 * (BATCH + 1)));
  });
});
