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

describe('the accounts an apply transaction locks', () => {
  // One source pays 30 destinations in turn; another session holds the
  // account of the 11th. The first batch must not wait for it: it settles
  // the ten transfers before, defers the 11th and, since a source's
  // transfers never overtake each other, the 19 after it. In the second
  // batch the 11th is the partition's oldest, whose accounts a batch waits
  // for, before it locks any other: two apply transactions that share
  // accounts could deadlock if one of them waited out of id order, or after
  // taking other accounts. Stopped at the held account, it must hold the
  // source if, and only if, the source's id comes first, and no other
  // destination.
  it('skips an account another holds, unless the oldest transfer needs it', async () => {
    const tenantId = await newTenant(db.sql);
    const [source = '', ...destinations] = await createAccounts(db.sql, tenantId, 31, 10n ** 9n);
    const batch = await insertPendingTransfers(
      db.sql,
      db.config(),
      tenantId,
      destinations.map((destination) => ({ source, destination, amount: 1n })),
    );
    const partition = batch[0]?.partition ?? 0;
    const held = destinations[10] ?? '';

    const application = 'lock-order-apply';
    const applier = connect(db.config(), application);
    const blocker = await db.sql.reserve();
    try {
      await blocker`begin`;
      await blocker`select id from accounts where id = ${held} for update`;
      const first = await applyPendingBatch(applier, partition, 100);
      expect(first).toMatchObject({ posted: 10, deferred: 20 });

      const second = applyPendingBatch(applier, partition, 100);
      await waitUntil('the apply transaction waits for the held account', async () => {
        const [row] = await db.sql<{ waiting: number }[]>`
          select count(*)::int as waiting from pg_stat_activity
          where application_name = ${application} and wait_event_type = 'Lock'`;
        return (row?.waiting ?? 0) > 0;
      });

      let free: string[] = [];
      const others = [source, ...destinations.slice(11)];
      await rolledBack(db.sql, async (tx) => {
        const rows = await tx<{ id: string }[]>`
          select id from accounts where id in ${tx(others)}
          order by id for update skip locked`;
        free = rows.map((row) => row.id);
      });
      const expected = others.filter((id) => id !== source || source > held);
      expect(free).toEqual([...expected].sort());

      await blocker`rollback`;
      expect(await second).toMatchObject({ posted: 20, deferred: 0 });
    } finally {
      await blocker`rollback`.catch(() => undefined);
      blocker.release();
      await applier.end({ timeout: 5 });
    }
  });
});
