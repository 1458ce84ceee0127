import type { Db } from '../db/sql.js';

export interface IdempotencyScope {
  tenantId: string;
  method: string;
  path: string;
  key: string;
}

export interface IdempotencyRecord {
  id: bigint;
  fingerprint: string;
  resourceType: string;
  resourceId: string;
  responseStatus: number;
  expiresAt: Date;
}

const COLUMNS = 'id, fingerprint, resource_type, resource_id, response_status, expires_at';

/**
 * The live record of a scope, locked until the transaction ends. An expired
 * record is deleted on the way, so that the key starts afresh.
 */
export async function lockIdempotencyRecord(
  db: Db,
  scope: IdempotencyScope,
): Promise<IdempotencyRecord | undefined> {
  const [row] = await db<(IdempotencyRecord & { expired: boolean })[]>`
    select ${db.unsafe(COLUMNS)}, expires_at <= now() as expired from idempotency_keys
    where tenant_id = ${scope.tenantId} and method = ${scope.method}
      and path = ${scope.path} and key = ${scope.key}
    for update`;
  if (!row) return undefined;
  if (row.expired) {
    await db`delete from idempotency_keys where id = ${row.id.toString()}`;
    return undefined;
  }
  return row;
}

/** Inserts a record; undefined when a concurrent request inserted one first. */
export async function insertIdempotencyRecord(
  db: Db,
  scope: IdempotencyScope,
  record: { fingerprint: string; resourceType: string; resourceId: string; responseStatus: number },
  ttlHours: number,
): Promise<IdempotencyRecord | undefined> {
  const [row] = await db<IdempotencyRecord[]>`
    insert into idempotency_keys (tenant_id, method, path, key, fingerprint, resource_type,
      resource_id, response_status, expires_at)
    values (${scope.tenantId}, ${scope.method}, ${scope.path}, ${scope.key}, ${record.fingerprint},
      ${record.resourceType}, ${record.resourceId}, ${record.responseStatus},
      now() + make_interval(hours => ${ttlHours}))
    on conflict (tenant_id, method, path, key) do nothing
    returning ${db.unsafe(COLUMNS)}`;
  return row;
}

/** Points a record at a new attempt of its resource and restarts its lifetime. */
export async function repointIdempotencyRecord(
  db: Db,
  id: bigint,
  resourceId: string,
  ttlHours: number,
): Promise<IdempotencyRecord> {
  const [row] = await db<IdempotencyRecord[]>`
    update idempotency_keys
    set resource_id = ${resourceId}, expires_at = now() + make_interval(hours => ${ttlHours})
    where id = ${id.toString()}
    returning ${db.unsafe(COLUMNS)}`;
  if (!row) throw new Error('idempotency record vanished while locked');
  return row;
}

/** Removes expired records, a batch at a time; returns how many went. */
export async function deleteExpiredIdempotencyRecords(db: Db, batch: number): Promise<number> {
  const rows = await db`
    delete from idempotency_keys where id in (
      select id from idempotency_keys where expires_at <= now() limit ${batch})
    returning id`;
  return rows.length;
}
