import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointAfterSeeding, TenantStock } from '../../src/bench/tenant-stock.js';
import { createSql } from '../../src/db/sql.js';
import { TEST_DATABASE_URL, testConfig } from '../support/env.js';

const sql = createSql(testConfig(), { max: 2, application: 'tenant-stock-test' });
const tag = randomBytes(4).toString('hex');

afterAll(async () => {
  await sql.end({ timeout: 5 });
});

async function tenantsNamed(prefix: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from tenants where name like ${`${prefix}%`}`;
  return row?.n ?? 0;
}

describe('TenantStock', () => {
  it('seeds a tenant with its accounts per name and hands each out once', async () => {
    const names = [`${tag} closed`, `${tag} open`];
    const stock = await TenantStock.seed(sql, names, 3);

    const open = stock.take(`${tag} open`);
    const closed = stock.take(`${tag} closed`);
    expect(open.tenantId).not.toBe(closed.tenantId);
    for (const [name, tenant] of [
      [`${tag} open`, open],
      [`${tag} closed`, closed],
    ] as const) {
      expect(tenant.accountIds).toHaveLength(3);
      const rows = await sql<{ name: string; accounts: number }[]>`
        select t.name, (select count(*)::int from accounts a where a.tenant_id = t.id
          and a.id = any(${tenant.accountIds})) as accounts
        from tenants t where t.id = ${tenant.tenantId}`;
      expect(rows).toEqual([{ name: `bench ${name}`, accounts: 3 }]);
    }
    expect(() => stock.take(`${tag} open`)).toThrow(/no tenant left seeded/);
    expect(() => stock.take(`${tag} drain`)).toThrow(/no tenant left seeded/);
  });

  it('refuses a name given twice before seeding anything', async () => {
    const prefix = `bench ${tag} twice`;
    await expect(
      TenantStock.seed(sql, [`${tag} twice a`, `${tag} twice b`, `${tag} twice a`], 2),
    ).rejects.toThrow(/named twice: .* twice a/);
    expect(await tenantsNamed(prefix)).toBe(0);
  });
});

describe('checkpointAfterSeeding', () => {
  it('checkpoints for a role allowed to, and says so when the role may not', async () => {
    expect(await checkpointAfterSeeding(sql)).toBe(true);

    const role = `fctest_plain_${tag}`;
    await sql.unsafe(`create role ${role} login`);
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    url.password = '';
    const plain = createSql(testConfig({ DATABASE_URL: url.toString() }), {
      max: 1,
      application: 'tenant-stock-test',
    });
    try {
      expect(await checkpointAfterSeeding(plain)).toBe(false);
    } finally {
      await plain.end({ timeout: 5 });
      await sql.unsafe(`drop role ${role}`);
    }
  });
});
