import type { Sql } from '../db/sql.js';
import { newId } from '../lib/ids.js';
import { createTenant } from '../services/tenants.js';

export const BENCH_CURRENCY = 'EUR';

/**
 * Room for any run to overdraw: every account may go this far below zero,
 * so no benchmark transfer fails for want of funds and each one posts.
 */
const OVERDRAFT_LIMIT = 1_000_000_000_000n;

export interface BenchTenant {
  tenantId: string;
  apiKey: string;
  accountIds: string[];
}

/** A tenant with its API key and `accounts` open accounts, written straight to PostgreSQL. */
export async function seedTenant(sql: Sql, name: string, accounts: number): Promise<BenchTenant> {
  const { tenant, secret } = await createTenant(sql, name, 'bench');
  const rows = Array.from({ length: accounts }, () => ({
    id: newId('acct'),
    tenantId: tenant.id,
    currency: BENCH_CURRENCY,
    overdraftLimit: OVERDRAFT_LIMIT.toString(),
  }));
  for (let start = 0; start < rows.length; start += 1_000) {
    const slice = rows.slice(start, start + 1_000);
    await sql`insert into accounts ${sql(slice, 'id', 'tenantId', 'currency', 'overdraftLimit')}`;
  }
  // Statistics as autovacuum would gather them, for the baselines and the
  // product alike; a server running without autovacuum would plan from none.
  await sql`analyze accounts`;
  return { tenantId: tenant.id, apiKey: secret, accountIds: rows.map((row) => row.id) };
}
