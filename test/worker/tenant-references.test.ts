import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { createAccount, insertPendingTransfers, newTenant, outcomeOf } from './fixtures.js';
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

  it("refuses an entry on an account of another tenant than the entry's", async () => {
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
  });
});
