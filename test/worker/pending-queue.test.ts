import { describe, expect, it } from 'vitest';
import { hasPendingTransfers } from '../../src/data/accounts.js';
import { listTransfers } from '../../src/data/transfers.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import {
  createAccount,
  createAccounts,
  healthyLedger,
  insertPendingTransfers,
  ledgerReport,
  newTenant,
  readsBy,
} from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();

async function queued(ids: string[]): Promise<string[]> {
  const rows = await db.sql<{ transferId: string }[]>`
    select transfer_id from pending_transfers where transfer_id = any(${ids})`;
  return rows.map((row) => row.transferId).sort();
}

describe('the queue of pending transfers (migration 0013)', () => {
  it('holds every pending transfer, however written, until its status is final', async () => {
    const tenantId = await newTenant(db.sql);
    const bank = await createAccount(db.sql, tenantId, { overdraftLimit: 1_000n });
    const [to] = await createAccounts(db.sql, tenantId, 1);
    const transfers = await insertPendingTransfers(
      db.sql,
      db.config(),
      tenantId,
      Array.from({ length: 3 }, () => ({ source: bank, destination: to ?? '', amount: 1n })),
    );
    const ids = transfers.map((transfer) => transfer.id);
    expect(await queued(ids)).toEqual([...ids].sort());

    // An operator's own update, outside the worker, leaves the queue too.
    const [failed, ...rest] = ids;
    await db.sql`
      update transfers set status = 'failed', failure_code = 'account_closed', failed_at = now()
      where id = ${failed ?? ''}`;
    expect(await queued(ids)).toEqual([...rest].sort());

    // What the queue copies of a transfer cannot change under it.
    for (const change of [
      db.sql`update transfers set partition = partition + 1 where id = ${rest[0] ?? ''}`,
      db.sql`update transfers set seq = seq + 1000000 where id = ${rest[0] ?? ''}`,
      db.sql`update transfers set created_at = created_at - interval '1 day'
        where id = ${rest[0] ?? ''}`,
    ]) {
      await expect(change).rejects.toMatchObject({ code: '42501' });
    }

    const partition = transfers[0]?.partition ?? 0;
    while ((await applyPendingBatch(db.sql, partition, 10)).settled.length > 0) {}
    expect(await queued(ids)).toEqual([]);
    const report = await ledgerReport(db.sql, tenantId);
    expect(report.queueMismatches).toBe(0);
    expect(report.posted).toBe(2);
  });

  it('posts transfers in place: a settlement writes no new index entries', async () => {
    const tenantId = await newTenant(db.sql);
    const banks = await createAccounts(db.sql, tenantId, 4, 10n ** 9n);
    const transfers = await insertPendingTransfers(
      db.sql,
      db.config(),
      tenantId,
      Array.from({ length: 400 }, (_, i) => ({
        source: banks[i % banks.length] ?? '',
        destination: banks[(i + 1) % banks.length] ?? '',
        amount: 1n,
      })),
    );
    const partitions = [...new Set(transfers.map((transfer) => transfer.partition))];
    const used = await readsBy(db.config(), 'transfers', async (sql) => {
      for (const partition of partitions) {
        while ((await applyPendingBatch(sql, partition, 400)).settled.length > 0) {}
      }
    });
    expect(used.updates).toBe(400n);
    expect(used.inPlaceUpdates).toBe(400n);
    expect(await ledgerReport(db.sql, tenantId)).toEqual(healthyLedger(400));
  });

  it("finds an account's or tenant's pending transfers without reading history", async () => {
    const tenantId = await newTenant(db.sql);
    const [busy, other] = await createAccounts(db.sql, tenantId, 2, 10n ** 9n);
    const history = await insertPendingTransfers(
      db.sql,
      db.config(),
      tenantId,
      Array.from({ length: 2_000 }, (_, i) => ({
        source: (i % 2 === 0 ? busy : other) ?? '',
        destination: (i % 2 === 0 ? other : busy) ?? '',
        amount: 1n,
      })),
    );
    for (const partition of new Set(history.map((transfer) => transfer.partition))) {
      while ((await applyPendingBatch(db.sql, partition, 1_000)).settled.length > 0) {}
    }
    await db.sql`analyze transfers`;
    const [pending] = await insertPendingTransfers(db.sql, db.config(), tenantId, [
      { source: other ?? '', destination: busy ?? '', amount: 1n },
    ]);

    let found: unknown[] = [];
    const listing = await readsBy(db.config(), 'transfers', async (sql) => {
      found = await listTransfers(sql, tenantId, { limit: 10 }, { status: 'pending' });
    });
    expect(found).toEqual([expect.objectContaining({ id: pending?.id, status: 'pending' })]);
    expect(listing.rowsRead).toBeLessThanOrEqual(10n);

    let answer = false;
    const closing = await readsBy(db.config(), 'transfers', async (sql) => {
      answer = await hasPendingTransfers(sql, busy ?? '');
    });
    expect(answer).toBe(true);
    expect(closing.rowsRead).toBeLessThanOrEqual(10n);
  });
});
