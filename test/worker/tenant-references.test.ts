import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import {
  createAccount,
  insertPendingTransfers,
  newTenant,
  outcomeOf,
  rolledBack,
} from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();
let tenant: string;
let other: string;
let mine: string;
let mineToo: string;
let theirs: string;

beforeAll(async () => {
  tenant = await newTenant(db.sql);
  other = await newTenant(db.sql);
  mine = await createAccount(db.sql, tenant, { overdraftLimit: 1_000n });
  mineToo = await createAccount(db.sql, tenant);
  theirs = await createAccount(db.sql, other);
});

function insertTransfer(tenantId: string, source: string, destination: string) {
  return db.sql`
    insert into transfers (id, tenant_id, source_account_id, destination_account_id,
      partition, amount, currency)
    values (${newId('tr')}, ${tenantId}, ${source}, ${destination}, 0, 5, 'USD')`;
}

describe('references bound to a tenant', () => {
  it("refuses a transfer whose source or destination is another tenant's", async () => {
    expect(await outcomeOf(insertTransfer(tenant, mine, theirs))).toBe('23503');
    expect(await outcomeOf(insertTransfer(tenant, theirs, mine))).toBe('23503');
    expect(await outcomeOf(insertTransfer(other, mine, mineToo))).toBe('23503');
    expect(await outcomeOf(insertTransfer(tenant, mine, 'acct_missing'))).toBe('23503');
    expect(await outcomeOf(insertTransfer(tenant, mine, mineToo))).toBe('ok');
  });

  it("refuses an entry on an account or transfer of another tenant than the entry's", async () => {
    const [transfer] = await insertPendingTransfers(db.sql, db.config(), tenant, [
      { source: mine, destination: mineToo, amount: 5n },
    ]);
    if (!transfer) throw new Error('no transfer');
    const entry = (tenantId: string, accountId: string) => db.sql`
      insert into entries (id, tenant_id, account_id, transfer_id, amount, balance_after)
      values (${newId('ent')}, ${tenantId}, ${accountId}, ${transfer.id}, 5, 5)`;
    expect(await outcomeOf(entry(tenant, theirs))).toBe('23503');
    expect(await outcomeOf(entry(other, mine))).toBe('23503');
    expect(await outcomeOf(entry(tenant, mine))).toBe('ok');

    const theirsToo = await createAccount(db.sql, other);
    const [foreign] = await insertPendingTransfers(db.sql, db.config(), other, [
      { source: theirs, destination: theirsToo, amount: 5n },
    ]);
    const onTransfer = (transferId: string) => db.sql`
      insert into entries (id, tenant_id, account_id, transfer_id, amount, balance_after)
      values (${newId('ent')}, ${tenant}, ${mine}, ${transferId}, 5, 5)`;
    expect(await outcomeOf(onTransfer(foreign?.id ?? ''))).toBe('23503');
    expect(await outcomeOf(onTransfer('tr_missing'))).toBe('23503');
  });
  it('refuses a whole statement when any one of its rows crosses tenants', async () => {
    const rows = [
      [newId('tr'), tenant, mine, mineToo],
      [newId('tr'), tenant, mine, theirs],
    ];
    const insert = db.sql`
      insert into transfers (id, tenant_id, source_account_id, destination_account_id,
        partition, amount, currency)
      select id, tenant_id, source, destination, 0, 5, 'USD'
      from unnest(${rows.map((r) => r[0] ?? '')}::text[], ${rows.map((r) => r[1] ?? '')}::text[],
        ${rows.map((r) => r[2] ?? '')}::text[], ${rows.map((r) => r[3] ?? '')}::text[])
        as v (id, tenant_id, source, destination)`;
    expect(await outcomeOf(insert)).toBe('23503');
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from transfers where id in ${db.sql(rows.map((r) => r[0] ?? ''))}`;
    expect(row?.n).toBe(0);
  });

  it('keeps what those checks rely on: ids, tenants and accounts never change', async () => {
    const [transfer] = await insertPendingTransfers(db.sql, db.config(), tenant, [
      { source: mine, destination: mineToo, amount: 5n },
    ]);
    if (!transfer) throw new Error('no transfer');
    const account = (column: string, value: string) =>
      db.sql`update accounts set ${db.sql({ [column]: value })} where id = ${mine}`;
    const moved = (column: string, value: string) =>
      db.sql`update transfers set ${db.sql({ [column]: value })} where id = ${transfer.id}`;
    const refused = [
      account('tenant_id', other),
      account('id', 'acct_renamed'),
      moved('id', 'tr_renamed'),
      moved('tenant_id', other),
      moved('source_account_id', theirs),
      moved('destination_account_id', theirs),
      db.sql`truncate accounts`,
      db.sql`truncate transfers`,
    ];
    for (const change of refused) expect(await outcomeOf(change)).toBe('42501');
    expect(await outcomeOf(account('tenant_id', tenant))).toBe('ok');
    expect(await outcomeOf(moved('amount', '6'))).toBe('ok');
  });

  it('checks without locking accounts: a transfer is accepted while one is locked', async () => {
    const holder = await db.sql.reserve();
    try {
      await holder`begin`;
      await holder`select id from accounts where id in ${holder([mine, mineToo])} for update`;
      const accepted = rolledBack(db.sql, async (tx) => {
        await tx`set local lock_timeout = '2s'`;
        await tx`
          insert into transfers (id, tenant_id, source_account_id, destination_account_id,
            partition, amount, currency)
          values (${newId('tr')}, ${tenant}, ${mine}, ${mineToo}, 0, 5, 'USD')`;
      });
      expect(await outcomeOf(accepted)).toBe('ok');
    } finally {
      await holder`rollback`;
      holder.release();
    }
  });
});
