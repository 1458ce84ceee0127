import {
  type AccountRow,
  findAccount,
  hasPendingTransfers,
  insertAccount,
  listAccounts,
  markAccountClosed,
} from '../data/accounts.js';
import { listEntries } from '../data/entries.js';
import { appendEvents } from '../data/events.js';
import type { Page, PageRequest } from '../data/pagination.js';
import { insertAudit } from '../data/tenants.js';
import type { Db, Sql, TransactionSql } from '../db/sql.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { IdempotentOperation } from './idempotency.js';
import { pageOf } from './pages.js';
import { accountView, type EntryRow } from './views.js';

export interface OpenAccountInput {
  currency: string;
  overdraftLimit: bigint;
  reference: string | null;
  metadata: Record<string, unknown>;
}

export interface Actor {
  tenantId: string;
  keyId: string;
  requestId: string;
}

/**
 * Opening an account, as an idempotent operation. Accounts start at a
 * balance of zero: money enters only by transfer, so a tenant's balances
 * always sum to zero per currency. A reference is unique per tenant (409).
 */
export function openAccountOperation(
  actor: Actor,
  input: OpenAccountInput,
): IdempotentOperation<AccountRow> {
  return {
    resourceType: 'account',
    status: 201,
    newId: () => newId('acct'),
    load: (db, id) => findAccount(db, actor.tenantId, id),
    create: async (tx, id) => {
      const account = await insertAccount(tx, { id, tenantId: actor.tenantId, ...input });
      if (!account) {
        throw new AppError(
          'account_reference_taken',
          `another account already has the reference ${JSON.stringify(input.reference)}`,
        );
      }
      await audit(tx, actor, 'account.opened', account.id);
      return account;
    },
  };
}

/** Opens an account without an idempotency key. */
export async function openAccount(sql: Sql, actor: Actor, input: OpenAccountInput) {
  const operation = openAccountOperation(actor, input);
  return sql.begin((tx) =>
    operation.create(tx, operation.newId(), undefined, null),
  ) as Promise<AccountRow>;
}

export async function getAccount(db: Db, tenantId: string, id: string): Promise<AccountRow> {
  const account = await findAccount(db, tenantId, id);
  if (!account) throw notFound(id);
  return account;
}

export async function pageAccounts(
  db: Db,
  tenantId: string,
  page: PageRequest,
  filter: { reference?: string | undefined },
): Promise<Page<AccountRow>> {
  const rows = await listAccounts(db, tenantId, page, filter);
  return pageOf(db, rows, page, { list: 'accounts', scope: tenantId });
}

/**
 * Closes an account for good. Only an account with a zero balance and no
 * pending transfer in either direction can close (409 otherwise); closing a
 * closed account answers it as it is. The `account.closed` event is written
 * in the same transaction.
 */
export async function closeAccount(sql: Sql, actor: Actor, id: string): Promise<AccountRow> {
  return sql.begin(async (tx) => {
    const account = await findAccount(tx, actor.tenantId, id, { forUpdate: true });
    if (!account) throw notFound(id);
    if (account.closedAt !== null) return account;
    if (account.balance !== 0n || (await hasPendingTransfers(tx, id))) {
      throw new AppError(
        'account_not_empty',
        'an account closes only with a zero balance and no pending transfers',
      );
    }
    const closed = await markAccountClosed(tx, id);
    await audit(tx, actor, 'account.closed', id);
    await appendEvents(tx, actor.tenantId, [{ type: 'account.closed', data: accountView(closed) }]);
    return closed;
  }) as Promise<AccountRow>;
}

export async function pageEntries(
  db: Db,
  tenantId: string,
  accountId: string,
  page: PageRequest,
): Promise<Page<EntryRow>> {
  await getAccount(db, tenantId, accountId);
  const rows = await listEntries(db, accountId, page);
  return pageOf(db, rows, page, { list: 'entries', scope: accountId });
}

function notFound(id: string): AppError {
  return new AppError('not_found', `no such account: ${id}`);
}

async function audit(tx: TransactionSql, actor: Actor, action: string, accountId: string) {
  await insertAudit(tx, {
    tenantId: actor.tenantId,
    actor: actor.keyId,
    action,
    resourceType: 'account',
    resourceId: accountId,
    requestId: actor.requestId,
  });
}
