import type { Sql } from '../db/sql.js';
import { type BenchTenant, seedTenant } from './seed.js';

/**
 * Every run's tenant, seeded before the first measurement rather than just
 * before its own run. Seeding 100,000 accounts writes some 80 MB of WAL and
 * as many dirty pages in a few seconds; done right before a run, that
 * writing, and the checkpoint its WAL set off, fell on the run's first
 * seconds, which then timed the benchmark's set-up rather than the product.
 */
export class TenantStock {
  private readonly tenants = new Map<string, BenchTenant>();

  /** Seeds one tenant of `accounts` open accounts per name, in order. */
  static async seed(sql: Sql, names: readonly string[], accounts: number): Promise<TenantStock> {
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate !== undefined) throw new Error(`a tenant named twice: ${duplicate}`);
    const stock = new TenantStock();
    for (const name of names)
      stock.tenants.set(name, await seedTenant(sql, `bench ${name}`, accounts));
    return stock;
  }

  /** The tenant seeded for `name`, handed out once: no two runs share accounts. */
  take(name: string): BenchTenant {
    const tenant = this.tenants.get(name);
    if (!tenant) throw new Error(`no tenant left seeded for ${name}`);
    this.tenants.delete(name);
    return tenant;
  }
}

/**
 * Asks PostgreSQL to write out what the seeding left in its buffers
 * (`CHECKPOINT`, which needs a superuser or `pg_checkpoint`), so that the
 * first measurement does not pay for it. Says whether it could.
 */
export async function checkpointAfterSeeding(sql: Sql): Promise<boolean> {
  try {
    await sql`checkpoint`;
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '42501') return false;
    throw error;
  }
}
