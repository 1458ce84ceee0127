import type { Db } from '../db/sql.js';
import type { PageRequest } from './pagination.js';
import type { TransferRow } from './rows.js';

export type { TransferRow };

const COLUMNS = `id, tenant_id, source_account_id, destination_account_id, partition, amount,
  currency, description, metadata, status, failure_code, attempt, previous_attempt_id,
  created_at, posted_at, failed_at`;

/** What acceptance writes of a transfer; the database fills in the rest. */
export type NewTransfer = Pick<
  TransferRow,
  | 'id'
  | 'tenantId'
  | 'sourceAccountId'
  | 'destinationAccountId'
  | 'partition'
  | 'amount'
  | 'currency'
  | 'description'
  | 'metadata'
  | 'attempt'
  | 'previousAttemptId'
> & { idempotencyKeyId: bigint | null };

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

/** Several transfers by id, each only in its own tenant; the rows found, in no order. */
export async function findTransfersOfTenants(
  db: Db,
  keys: { tenantId: string; id: string }[],
): Promise<TransferRow[]> {
  if (keys.length === 0) return [];
  return db<TransferRow[]>`
    select ${db.unsafe(COLUMNS)} from transfers
    where (id, tenant_id) in (
      select * from unnest(
        ${keys.map((key) => key.id)}::text[],
        ${keys.map((key) => key.tenantId)}::text[]))`;
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
  // Pending transfers are read through their queue (migration 0013), so that
  // listing a few of them does not walk the tenant's whole history.
  const status =
    filter.status === 'pending'
      ? db`and status = 'pending' and id = any(array(select transfer_id from pending_transfers))`
      : filter.status
        ? db`and status = ${filter.status}`
        : db``;
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

/** A first attempt with its idempotency record, for `insertTransfersWithNewKeys`. */
export interface NewKeyedTransfer {
  transfer: Omit<NewTransfer, 'idempotencyKeyId' | 'attempt' | 'previousAttemptId'>;
  record: NewKeyRecord;
}

/**
 * Accepts first attempts in one statement: for each, records the idempotency
 * key and inserts the transfer, provided the key is new and both accounts
 * belong to the tenant, differ, and hold the currency. Answers, in input
 * order, the inserted row or undefined for an item it recorded nothing for;
 * the caller's full transaction then sorts out why.
 *
 * The acceptance locks of every source (see `lockSourceForAcceptance`) are
 * taken first, in hash order so that two statements never wait on each other
 * in a cycle. The count over them is a barrier: no row reaches the inserts,
 * and no `seq` is drawn, before every lock is held. Transfers of one source
 * in one statement commit together, so their relative order is the one `seq`
 * gives them; a client that waited for one answer before sending the next
 * request never has both in one statement.
 */
export async function insertTransfersWithNewKeys(
  db: Db,
  items: NewKeyedTransfer[],
): Promise<(TransferRow | undefined)[]> {
  if (items.length === 0) return [];
  const column = <V>(pick: (item: NewKeyedTransfer) => V) => items.map(pick);
  const rows = await db<TransferRow[]>`
    with input as (
      select * from unnest(
        ${column((i) => i.transfer.id)}::text[],
        ${column((i) => i.transfer.tenantId)}::text[],
        ${column((i) => i.transfer.sourceAccountId)}::text[],
        ${column((i) => i.transfer.destinationAccountId)}::text[],
        ${column((i) => i.transfer.partition)}::int4[],
        ${column((i) => i.transfer.amount.toString())}::int8[],
        ${column((i) => i.transfer.currency)}::text[],
        ${column((i) => i.transfer.description)}::text[],
        ${column((i) => JSON.stringify(i.transfer.metadata))}::text[],
        ${column((i) => i.record.scope.tenantId)}::text[],
        ${column((i) => i.record.scope.method)}::text[],
        ${column((i) => i.record.scope.path)}::text[],
        ${column((i) => i.record.scope.key)}::text[],
        ${column((i) => i.record.fingerprint)}::text[],
        ${column((i) => i.record.resourceType)}::text[],
        ${column((i) => i.record.responseStatus)}::int4[],
        ${column((i) => i.record.ttlHours)}::int4[])
        with ordinality as i (id, tenant_id, source_id, destination_id, partition, amount,
          currency, description, metadata, key_tenant_id, method, path, key, fingerprint,
          resource_type, response_status, ttl_hours, ordinal)
    ), source_locks as (
      select count(*) as held from (
        select pg_advisory_xact_lock(${SOURCE_LOCK_NAMESPACE}::int4, h.hash)
        from (select distinct hashtext(source_id) as hash from input order by 1) h
      ) taken
    ), valid as (
      select input.* from input, source_locks
      where source_locks.held >= 0 and input.source_id <> input.destination_id
        and (select count(*) from accounts a
          where a.id in (input.source_id, input.destination_id)
            and a.tenant_id = input.tenant_id and a.currency = input.currency) = 2
    ), keys as (
      insert into idempotency_keys (tenant_id, method, path, key, fingerprint, resource_type,
        resource_id, response_status, expires_at)
      select key_tenant_id, method, path, key, fingerprint, resource_type, id, response_status,
        now() + make_interval(hours => ttl_hours)
      from valid
      order by ordinal
      on conflict (tenant_id, method, path, key) do nothing
      returning id, resource_id
    )
    insert into transfers (id, tenant_id, source_account_id, destination_account_id, partition,
      amount, currency, description, metadata, idempotency_key_id)
    select valid.id, valid.tenant_id, valid.source_id, valid.destination_id, valid.partition,
      valid.amount, valid.currency, valid.description, valid.metadata::jsonb, keys.id
    from valid join keys on keys.resource_id = valid.id
    order by valid.ordinal
    returning ${db.unsafe(COLUMNS)}`;
  const byId = new Map(rows.map((row) => [row.id, row]));
  return items.map((item) => byId.get(item.transfer.id));
}
