import { describe, expect, it } from 'vitest';
import { createSql } from '../../src/db/sql.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import {
  createAccounts,
  insertPendingTransfers,
  newTenant,
  readsBetween,
  tableReads,
} from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();

describe('plans an apply session keeps while its tables grow', () => {
  // A session plans an apply statement once and keeps the plan. Made while
  // `accounts` fits in a page and every transfer is pending, a plan free to
  // choose would read the whole of `accounts` for each account it locks, or
  // walk all of `transfers` in acceptance order to find a partition's pending
  // ones, and go on doing so once the tables are large.
  it('still finds accounts and transfers by key after the tables grew', async () => {
    const tenantId = await newTenant(db.sql);
    const few = await createAccounts(db.sql, tenantId, 8, 10n ** 9n);
    const source = few[0] ?? '';
    const pending = (specs: { source: string; destination: string }[]) =>
      insertPendingTransfers(
        db.sql,
        db.config(),
        tenantId,
        specs.map((spec) => ({ ...spec, amount: 1n })),
      );
    const [first] = await pending(
      Array.from({ length: 640 }, (_, i) => ({
        source: few[i % few.length] ?? '',
        destination: few[(i + 1) % few.length] ?? '',
      })),
    );
    const partition = first?.partition ?? 0;
    await db.sql`analyze accounts`;
    await db.sql`analyze transfers`;

    const session = createSql(db.config(), { max: 1, application: 'cached-plans-test' });
    try {
      for (let run = 0; run < 3; run++) await applyPendingBatch(session, partition, 100);

      // A settled history in front of the partition's next pending transfers.
      await pending(Array.from({ length: 3_000 }, () => ({ source, destination: few[1] ?? '' })));
      while ((await applyPendingBatch(db.sql, partition, 1_000)).settled.length > 0) {}
      const many = await createAccounts(db.sql, tenantId, 5_000);
      const named = many.slice(0, 30);
      await pending(named.map((destination) => ({ source, destination })));

      const accountsBefore = await tableReads(session, 'accounts');
      const transfersBefore = await tableReads(session, 'transfers');
      const result = await applyPendingBatch(session, partition, 100);
      const accounts = readsBetween(accountsBefore, await tableReads(session, 'accounts'));
      const transfers = readsBetween(transfersBefore, await tableReads(session, 'transfers'));

      expect(result.posted).toBe(named.length);
      expect(accounts.seqScans).toBe(0n);
      expect(accounts.rowsRead).toBeGreaterThan(0n);
      // Each account once to lock it and once to update it, and once more
      // for the entries' tenant check (once per entry, as foreign keys did,
      // would still pass).
      expect(accounts.rowsRead).toBeLessThanOrEqual(BigInt(4 * (named.length + 1)));
      // Likewise each transfer: locked, updated, and checked for its entries.
      expect(transfers.seqScans).toBe(0n);
      expect(transfers.rowsRead).toBeLessThanOrEqual(BigInt(4 * named.length));
    } finally {
      await session.end({ timeout: 5 });
    }
  });
});
