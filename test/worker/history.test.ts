import { beforeAll, describe, expect, it } from 'vitest';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import { sequenceEvents } from '../../src/services/event-sequencer.js';
import { createAccount, insertPendingTransfers, newTenant, outcomeOf } from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();
let tenantId: string;
let accountId: string;

beforeAll(async () => {
  tenantId = await newTenant(db.sql);
  const bank = await createAccount(db.sql, tenantId, { overdraftLimit: 1_000n });
  accountId = await createAccount(db.sql, tenantId);
  const [transfer] = await insertPendingTransfers(db.sql, db.config(), tenantId, [
    { source: bank, destination: accountId, amount: 10n },
  ]);
  if (!transfer) throw new Error('no transfer');
  await applyPendingBatch(db.sql, transfer.partition, 100);
});

describe('history kept by the database', () => {
  it('refuses to change or remove ledger entries', async () => {
    expect(
      await outcomeOf(db.sql`update entries set amount = 1 where tenant_id = ${tenantId}`),
    ).toBe('42501');
    expect(await outcomeOf(db.sql`delete from entries where tenant_id = ${tenantId}`)).toBe(
      '42501',
    );
    expect(await outcomeOf(db.sql`truncate entries cascade`)).toBe('42501');
    const [row] = await db.sql<{ count: bigint }[]>`
      select count(*) as count from entries where tenant_id = ${tenantId}`;
    expect(row?.count).toBe(2n);
  });

  it('refuses to change or remove events', async () => {
    expect(
      await outcomeOf(db.sql`update events set type = 'x' where tenant_id = ${tenantId}`),
    ).toBe('42501');
    expect(await outcomeOf(db.sql`delete from events where tenant_id = ${tenantId}`)).toBe('42501');
  });

  it('numbers an event once, and never renumbers it', async () => {
    const numbers = () => db.sql<{ seq: bigint }[]>`
      select n.seq from event_numbers n join events e on e.id = n.event_id
      where e.tenant_id = ${tenantId}`;
    expect(await numbers()).toEqual([]);
    expect(await sequenceEvents(db.sql)).toBeGreaterThanOrEqual(1);
    expect((await numbers()).map((row) => row.seq)).toEqual([1n]);
    expect(await sequenceEvents(db.sql)).toBe(0);
    expect((await numbers()).map((row) => row.seq)).toEqual([1n]);
    const renumber = db.sql`update event_numbers set seq = 7 where tenant_id = ${tenantId}`;
    expect(await outcomeOf(renumber)).toBe('42501');
    const unnumber = db.sql`delete from event_numbers where tenant_id = ${tenantId}`;
    expect(await outcomeOf(unnumber)).toBe('42501');
    expect(await outcomeOf(db.sql`truncate event_numbers cascade`)).toBe('42501');
    expect(
      await outcomeOf(db.sql`update events set type = type where tenant_id = ${tenantId}`),
    ).toBe('42501');
  });

  it('refuses to change or remove audit records', async () => {
    expect(
      await outcomeOf(db.sql`update audit_log set action = 'x' where tenant_id = ${tenantId}`),
    ).toBe('42501');
    expect(await outcomeOf(db.sql`delete from audit_log where tenant_id = ${tenantId}`)).toBe(
      '42501',
    );
  });

  it('refuses to delete an account, which can only be closed', async () => {
    expect(await outcomeOf(db.sql`delete from accounts where id = ${accountId}`)).toBe('42501');
    expect(
      await outcomeOf(db.sql`update accounts set closed_at = now() where id = ${accountId}`),
    ).toBe('ok');
  });
});
