import { describe, expect, it } from 'vitest';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import {
  connect,
  createAccounts,
  insertPendingTransfers,
  newTenant,
  rolledBack,
  waitUntil,
} from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();

describe('the order in which an apply transaction locks accounts', () => {
  // Two transactions that share accounts can only deadlock if one of them
  // takes its account locks out of id order. Here the transaction is stopped
  // at the middle account, held by another session: every account before it
  // must be locked already, and none after it.
  it('locks the accounts of its batch in id order', async () => {
    const tenantId = await newTenant(db.sql);
    const [source = '', ...destinations] = await createAccounts(db.sql, tenantId, 31, 10n ** 9n);
    const batch = await insertPendingTransfers(
      db.sql,
      db.config(),
      tenantId,
      destinations.map((destination) => ({ source, destination, amount: 1n })),
    );
    const sorted = [source, ...destinations].sort();
    const middle = sorted[15] ?? '';
    const before = sorted.slice(0, 15);
    const after = sorted.slice(16);

    const application = 'lock-order-apply';
    const applier = connect(db.config(), application);
    const blocker = await db.sql.reserve();
    try {
      await blocker`begin`;
      await blocker`select id from accounts where id = ${middle} for update`;
      const applied = applyPendingBatch(applier, batch[0]?.partition ?? 0, 100);
      await waitUntil('the apply transaction waits for the middle account', async () => {
        const [row] = await db.sql<{ waiting: number }[]>`
          select count(*)::int as waiting from pg_stat_activity
          where application_name = ${application} and wait_event_type = 'Lock'`;
        return (row?.waiting ?? 0) > 0;
      });

      let free: string[] = [];
      await rolledBack(db.sql, async (tx) => {
        const rows = await tx<{ id: string }[]>`
          select id from accounts where id in ${tx([...before, ...after])}
          order by id for update skip locked`;
        free = rows.map((row) => row.id);
      });
      expect(free).toEqual(after);

      await blocker`rollback`;
      expect((await applied).posted).toBe(destinations.length);
    } finally {
      await blocker`rollback`.catch(() => undefined);
      blocker.release();
      await applier.end({ timeout: 5 });
    }
  });
});
