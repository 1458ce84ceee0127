import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../src/services/tenants.js';
import { call, newTenant, startTestApp, type TestApp } from '../support/app.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** Web processes keep a key's look-up for 5 s; a revocation must not wait for that. */
const AT_ONCE_MS = 1_500;

async function keyIdOf(tenantId: string): Promise<string> {
  const [row] = await app.sql<{ id: string }[]>`
    select id from api_keys where tenant_id = ${tenantId}`;
  if (!row) throw new Error(`no key for ${tenantId}`);
  return row.id;
}

/** The status of a list request with the key, once it is 401 or `AT_ONCE_MS` has passed. */
async function statusAfterRevocation(key: string): Promise<number> {
  const deadline = Date.now() + AT_ONCE_MS;
  for (;;) {
    const { status } = await call(app, 'GET', '/v1/accounts', { key });
    if (status === 401 || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('API key revocation', () => {
  it('stops a key the web process has cached at once, and no other key', async () => {
    const revoked = await newTenant(app.sql, 'revoked at once');
    const kept = await newTenant(app.sql, 'kept');
    for (const tenant of [revoked, kept]) {
      expect((await call(app, 'GET', '/v1/accounts', { key: tenant.key })).status).toBe(200);
    }

    await revokeApiKey(app.sql, await keyIdOf(revoked.tenantId));

    expect(await statusAfterRevocation(revoked.key)).toBe(401);
    expect((await call(app, 'GET', '/v1/accounts', { key: kept.key })).status).toBe(200);
  });

  it('stops a key revoked by hand in SQL at once as well', async () => {
    const tenant = await newTenant(app.sql, 'revoked by hand');
    expect((await call(app, 'GET', '/v1/accounts', { key: tenant.key })).status).toBe(200);

    await app.sql`update api_keys set revoked_at = now() where tenant_id = ${tenant.tenantId}`;

    expect(await statusAfterRevocation(tenant.key)).toBe(401);
  });

  it('stops a key whose row is deleted at once', async () => {
    const tenant = await newTenant(app.sql, 'deleted by hand');
    expect((await call(app, 'GET', '/v1/accounts', { key: tenant.key })).status).toBe(200);

    await app.sql`delete from api_keys where tenant_id = ${tenant.tenantId}`;

    expect(await statusAfterRevocation(tenant.key)).toBe(401);
  });
});
