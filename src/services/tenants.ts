import {
  type ApiKeyRow,
  findActiveKeyByHash,
  insertApiKey,
  insertAudit,
  insertTenant,
  revokeApiKeyRow,
  type TenantRow,
  tenantExists,
} from '../data/tenants.js';
import type { Sql } from '../db/sql.js';
import { generateApiKey, hashApiKey } from '../lib/api-key.js';
import { newId } from '../lib/ids.js';

export interface IssuedKey {
  key: ApiKeyRow;
  /** The only time the secret exists outside its holder: it is stored hashed. */
  secret: string;
}

/** Creates a tenant and its first API key. */
export async function createTenant(
  sql: Sql,
  name: string,
  actor = 'cli',
): Promise<{ tenant: TenantRow } & IssuedKey> {
  return sql.begin(async (tx) => {
    const tenant = await insertTenant(tx, newId('ten'), name);
    const issued = await issueKey(tx, tenant.id);
    await insertAudit(tx, {
      tenantId: tenant.id,
      actor,
      action: 'tenant.created',
      resourceType: 'tenant',
      resourceId: tenant.id,
      details: { name },
    });
    return { tenant, ...issued };
  }) as Promise<{ tenant: TenantRow } & IssuedKey>;
}

/** Issues another API key for an existing tenant; undefined when there is no such tenant. */
export async function createApiKey(
  sql: Sql,
  tenantId: string,
  actor = 'cli',
): Promise<IssuedKey | undefined> {
  return sql.begin(async (tx) => {
    if (!(await tenantExists(tx, tenantId))) return undefined;
    const issued = await issueKey(tx, tenantId);
    await insertAudit(tx, {
      tenantId,
      actor,
      action: 'api_key.created',
      resourceType: 'api_key',
      resourceId: issued.key.id,
    });
    return issued;
  }) as Promise<IssuedKey | undefined>;
}

/** Revokes a key at once; requests that present it afterwards get 401. */
export async function revokeApiKey(
  sql: Sql,
  keyId: string,
  actor = 'cli',
): Promise<ApiKeyRow | undefined> {
  return sql.begin(async (tx) => {
    const key = await revokeApiKeyRow(tx, keyId);
    if (key) {
      await insertAudit(tx, {
        tenantId: key.tenantId,
        actor,
        action: 'api_key.revoked',
        resourceType: 'api_key',
        resourceId: key.id,
      });
    }
    return key;
  }) as Promise<ApiKeyRow | undefined>;
}

/** The tenant and key id a presented secret belongs to, if it is live. */
export async function authenticateApiKey(
  sql: Sql,
  secret: string,
): Promise<{ keyId: string; tenantId: string } | undefined> {
  return findActiveKeyByHash(sql, hashApiKey(secret));
}

async function issueKey(db: Parameters<typeof insertApiKey>[0], tenantId: string) {
  const generated = generateApiKey();
  const key = await insertApiKey(db, {
    id: newId('key'),
    tenantId,
    hash: generated.hash,
    prefix: generated.prefix,
  });
  return { key, secret: generated.secret };
}
