import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredIdempotencyKeys } from '../../src/data/recovery.js';
import {
  createAccount,
  insertPendingTransfers,
  newTenant,
  outcomeOf,
  type PendingFixture,
  readsBy,
  rolledBack,
} from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();
let tenantId: string;
let source: string;
let destination: string;

beforeAll(async () => {
  tenantId = await newTenant(db.sql);
  source = await createAccount(db.sql, tenantId, { overdraftLimit: 1_000_000_000n });
  destination = await createAccount(db.sql, tenantId);
  // Enough transfers that reading them all is the dearer way to find a few.
  const filler = Array.from({ length: 5_000 }, () => ({ source, destination, amount: 1n }));
  await insertPendingTransfers(db.sql, db.config(), tenantId, filler);
  await db.sql`analyze transfers`;
});

/** An expired idempotency record, and `attempts` transfers that point to it. */
async function expiredKeyWith(attempts: number): Promise<{ keyId: bigint; ids: string[] }> {
  const transfers = await insertPendingTransfers(
    db.sql,
    db.config(),
    tenantId,
    Array.from({ length: attempts }, () => ({ source, destination, amount: 1n })),
  );
  const [key] = await db.sql<{ id: bigint }[]>`
    insert into idempotency_keys (tenant_id, method, path, key, fingerprint, resource_type,
      resource_id, response_status, expires_at)
    values (${tenantId}, 'POST', '/v1/transfers', ${randomBytes(8).toString('hex')}, 'f',
      'transfer', ${transfers.at(-1)?.id ?? ''}, 202, now() - interval '1 hour')
    returning id`;
  if (!key) throw new Error('no key');
  const ids = transfers.map((transfer: PendingFixture) => transfer.id);
  // Every attempt but the last failed; the last is pending.
  for (const [index, id] of ids.entries()) {
    await db.sql`
      update transfers
      set idempotency_key_id = ${key.id.toString()},
        status = ${index < ids.length - 1 ? 'failed' : 'pending'},
        failure_code = ${index < ids.length - 1 ? 'insufficient_funds' : null},
        failed_at = ${index < ids.length - 1 ? new Date() : null}
      where id = ${id}`;
  }
  return { keyId: key.id, ids };
}

describe('expiring idempotency records', () => {
  it('clears the references of a deleted record by index, not a scan of transfers', async () => {
    const { ids } = await expiredKeyWith(3);
    let cleared: { idempotencyKeyId: bigint | null }[] = [];
    const reads = await readsBy(db.config(), 'transfers', (sql) =>
      rolledBack(sql, async (tx) => {
        expect(await deleteExpiredIdempotencyKeys(tx, 500)).toBeGreaterThan(0);
        cleared = await tx`select idempotency_key_id from transfers where id = any(${ids})`;
      }),
    );

    expect(cleared.map((row) => row.idempotencyKeyId)).toEqual([null, null, null]);
    expect(reads.seqScans).toBe(0n);
    expect(reads.indexScans).toBeGreaterThan(0n);
  });

  it('holds a key to one attempt that has not failed, and any number that have', async () => {
    const { keyId, ids } = await expiredKeyWith(3);
    const [live] = ids.slice(-1);
    const [failed] = ids;
    // A second live attempt under the key is refused.
    expect(
      await outcomeOf(
        db.sql`update transfers set idempotency_key_id = ${keyId.toString()}
          where id = (select id from transfers where idempotency_key_id is null limit 1)`,
      ),
    ).toBe('23505');
    // A failed attempt cannot come back to life while another is live: a
    // final status never changes (migration 0013).
    expect(
      await outcomeOf(
        db.sql`update transfers set status = 'pending', failure_code = null, failed_at = null
          where id = ${failed ?? ''}`,
      ),
    ).toBe('23514');
    expect(
      await outcomeOf(
        db.sql`update transfers set status = 'posted', failure_code = null, failed_at = null,
          posted_at = now()
          where id = ${failed ?? ''}`,
      ),
    ).toBe('23514');
    // Once the live attempt fails, another may take its place.
    await db.sql`
      update transfers set status = 'failed', failure_code = 'insufficient_funds',
        failed_at = now()
      where id = ${live ?? ''}`;
    expect(
      await outcomeOf(
        db.sql`update transfers set idempotency_key_id = ${keyId.toString()}
          where id = (select id from transfers where idempotency_key_id is null limit 1)`,
      ),
    ).toBe('ok');
  });
});
