import type { Db } from '../db/sql.js';

export interface TenantRow {
  id: string;
  name: string;
  createdAt: Date;
}

export interface ApiKeyRow {
  id: string;
  tenantId: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export async function insertTenant(db: Db, id: string, name: string): Promise<TenantRow> {
  const [row] = await db<TenantRow[]>`
    insert into tenants (id, name) values (${id}, ${name})
    returning id, name, created_at`;
  if (!row) throw new Error('tenant insert returned nothing');
  return row;
}

export async function tenantExists(db: Db, id: string): Promise<boolean> {
  const [row] = await db`select 1 from tenants where id = ${id}`;
  return row !== undefined;
}

export async function insertApiKey(
  db: Db,
  key: { id: string; tenantId: string; hash: string; prefix: string },
): Promise<ApiKeyRow> {
  const [row] = await db<ApiKeyRow[]>`
    insert into api_keys (id, tenant_id, key_hash, prefix)
    values (${key.id}, ${key.tenantId}, ${key.hash}, ${key.prefix})
    returning id, tenant_id, prefix, created_at, revoked_at`;
  if (!row) throw new Error('api key insert returned nothing');
  return row;
}

export async function findActiveKeyByHash(
  db: Db,
  hash: string,
): Promise<{ keyId: string; tenantId: string } | undefined> {
  const [row] = await db<{ keyId: string; tenantId: string }[]>`
    select id as key_id, tenant_id from api_keys
    where key_hash = ${hash} and revoked_at is null`;
  return row;
}

export async function revokeApiKeyRow(db: Db, keyId: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db<ApiKeyRow[]>`
    update api_keys set revoked_at = coalesce(revoked_at, now())
    where id = ${keyId}
    returning id, tenant_id, prefix, created_at, revoked_at`;
  return row;
}

export async function listTenantKeys(db: Db, tenantId: string): Promise<ApiKeyRow[]> {
  return db<ApiKeyRow[]>`
    select id, tenant_id, prefix, created_at, revoked_at from api_keys
    where tenant_id = ${tenantId} order by created_at`;
}

export async function insertAudit(
  db: Db,
  entry: {
    tenantId: string | null;
    actor: string;
    action: string;
    resourceType?: string;
    resourceId?: string;
    requestId?: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await db`
    insert into audit_log
      (tenant_id, actor, action, resource_type, resource_id, request_id, details)
    values (${entry.tenantId}, ${entry.actor}, ${entry.action}, ${entry.resourceType ?? null},
      ${entry.resourceId ?? null}, ${entry.requestId ?? null},
      ${db.json((entry.details ?? {}) as never)})`;
}
