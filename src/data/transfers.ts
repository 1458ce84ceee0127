import type { Db } from '../db/sql.js';
import type { PageRequest } from './pagination.js';
import type { TransferRow } from './rows.js';

export type { TransferRow };

const COLUMNS = `id, tenant_id, source_account_id, destination_account_id, partition, amount,
  currency, description, metadata, status, failure_code, attempt, previous_attempt_id,
  created_at, posted_at, failed_at`;

export interface NewTransfer {
  id: string;
  tenantId: string;
  sourceAccountId: string;
  destinationAccountId: string;
  partition: number;
  amount: bigint;
  currency: string;
  description: string | null;
  metadata: Record<string, unknown>;
  idempotencyKeyId: bigint | null;
  attempt: number;
  previousAttemptId: string | null;
}

export async function insertTransfer(db: Db, transfer: NewTransfer): Promise<TransferRow> {
  const [row] = await db<TransferRow[]>`
    insert into transfers (id, tenant_id, source_account_id, destination_account_id, partition,
      amount, currency, description, metadata, idempotency_key_id, attempt, previous_attempt_id)
    values (${transfer.id}, ${transfer.tenantId}, ${transfer.sourceAccountId},
      ${transfer.destinationAccountId}, ${transfer.partition}, ${transfer.amount.toString()},
      ${transfer.currency}, ${transfer.description}, ${db.json(transfer.metadata as never)},
      ${transfer.idempotencyKeyId === null ? null : transfer.idempotencyKeyId.toString()},
      ${transfer.attempt}, ${transfer.previousAttemptId})
    returning ${db.unsafe(COLUMNS)}`;
  if (!row) throw new Error('transfer insert returned nothing');
  return row;
}

export async function findTransfer(
  db: Db,
  tenantId: string,
  id: string,
): Promise<TransferRow | undefined> {
  const [row] = await db<TransferRow[]>`
    select ${db.unsafe(COLUMNS)} from transfers where id = ${id} and tenant_id = ${tenantId}`;
  return row;
}

export interface TransferFilter {
  accountId?: string | undefined;
  status?: TransferRow['status'] | undefined;
}

/** The tenant's transfers, newest first, optionally of one account or status. */
export async function listTransfers(
  db: Db,
  tenantId: string,
  page: PageRequest,
  filter: TransferFilter,
): Promise<TransferRow[]> {
  const after = page.startingAfter
    ? db`and seq < (select seq from transfers
        where id = ${page.startingAfter} and tenant_id = ${tenantId})`
    : db``;
  const status = filter.status ? db`and status = ${filter.status}` : db``;
  const account = filter.accountId
    ? db`and (source_account_id = ${filter.accountId}
        or destination_account_id = ${filter.accountId})`
    : db``;
  return db<TransferRow[]>`
    select ${db.unsafe(COLUMNS)} from transfers
    where tenant_id = ${tenantId} ${account} ${status} ${after}
    order by seq desc
    limit ${page.limit + 1}`;
}

export async function transferExists(db: Db, tenantId: string, id: string): Promise<boolean> {
  const rows = await db`select 1 from transfers where id = ${id} and tenant_id = ${tenantId}`;
  return rows.length > 0;
}

/** First key of the advisory locks that serialize acceptance per source account. */
const SOURCE_LOCK_NAMESPACE = 727_366_301;

/**
 * Serializes acceptance per source account until the caller's transaction
 * commits. A transfer's `seq` is drawn when its row is inserted but becomes
 * visible only at commit; without this, a later transfer of the same source
 * could commit first and be applied before an earlier one still in flight.
 * Under the lock, a source's transfers commit in `seq` order.
 */
export async function lockSourceForAcceptance(db: Db, sourceAccountId: string): Promise<void> {
  await db`
    select pg_advisory_xact_lock(${SOURCE_LOCK_NAMESPACE}::int4, hashtext(${sourceAccountId}))`;
}

export interface NewKeyRecord {
  scope: { tenantId: string; method: string; path: string; key: string };
  fingerprint: string;
  resourceType: string;
  responseStatus: number;
  ttlHours: number;
}

/**
 * Accepts a first attempt in one statement: records the idempotency key and
 * inserts the transfer, provided the key is new and both accounts belong to
 * the tenant, differ, and hold the currency. Otherwise it records nothing
 * and returns undefined, and the caller's full transaction sorts out why.
 * The source's acceptance lock (see `lockSourceForAcceptance`) is taken
 * first: every later step reads from it, so it is held before `seq` is drawn.
 */
export async function insertTransferWithNewKey(
  db: Db,
  transfer: Omit<NewTransfer, 'idempotencyKeyId' | 'attempt' | 'previousAttemptId'>,
  record: NewKeyRecord,
): Promise<TransferRow | undefined> {
  const { scope } = record;
  const [row] = await db<TransferRow[]>`
    with source_lock as (
      select pg_advisory_xact_lock(${SOURCE_LOCK_NAMESPACE}::int4,
        hashtext(${transfer.sourceAccountId}))
    ), valid as (
      select 1 from accounts, source_lock
      where tenant_id = ${transfer.tenantId} and currency = ${transfer.currency}
        and id in (${transfer.sourceAccountId}, ${transfer.destinationAccountId})
        and ${transfer.sourceAccountId}::text <> ${transfer.destinationAccountId}::text
      having count(*) = 2
    ), key as (
      insert into idempotency_keys (tenant_id, method, path, key, fingerprint, resource_type,
        resource_id, response_status, expires_at)
      select ${scope.tenantId}, ${scope.method}, ${scope.path}, ${scope.key},
        ${record.fingerprint}, ${record.resourceType}, ${transfer.id}, ${record.responseStatus},
        now() + make_interval(hours => ${record.ttlHours})
      from valid
      on conflict (tenant_id, method, path, key) do nothing
      returning id
    )
    insert into transfers (id, tenant_id, source_account_id, destination_account_id, partition,
      amount, currency, description, metadata, idempotency_key_id)
    select ${transfer.id}, ${transfer.tenantId}, ${transfer.sourceAccountId},
      ${transfer.destinationAccountId}, ${transfer.partition}, ${transfer.amount.toString()},
      ${transfer.currency}, ${transfer.description}, ${db.json(transfer.metadata as never)}, key.id
    from key
    returning ${db.unsafe(COLUMNS)}`;
  return row;
}
