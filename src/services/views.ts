/**
 * The public shapes of resources, built from data-layer rows. Money leaves
 * as a JSON integer: amounts are capped at 2^53-1 on the way in, and a
 * balance beyond that range is refused rather than silently rounded.
 */

import type { AccountRow, EntryRow, TransferRow } from '../data/rows.js';

export type { AccountRow, EntryRow, FailureCode, TransferRow } from '../data/rows.js';
export { MAX_BALANCE } from '../data/rows.js';

export function money(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(-Number.MAX_SAFE_INTEGER)) {
    throw new RangeError('amount outside the range JSON can carry exactly');
  }
  return Number(value);
}

function time(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

export function accountView(row: AccountRow) {
  return {
    id: row.id,
    object: 'account' as const,
    currency: row.currency,
    balance: money(row.balance),
    overdraft_limit: money(row.overdraftLimit),
    reference: row.reference,
    metadata: row.metadata,
    status: row.closedAt === null ? ('active' as const) : ('closed' as const),
    version: money(row.version),
    created_at: row.createdAt.toISOString(),
    closed_at: time(row.closedAt),
  };
}

export function transferView(row: TransferRow) {
  return {
    id: row.id,
    object: 'transfer' as const,
    status: row.status,
    source_account_id: row.sourceAccountId,
    destination_account_id: row.destinationAccountId,
    amount: money(row.amount),
    currency: row.currency,
    description: row.description,
    metadata: row.metadata,
    failure_code: row.failureCode,
    attempt: row.attempt,
    previous_attempt_id: row.previousAttemptId,
    created_at: row.createdAt.toISOString(),
    posted_at: time(row.postedAt),
    failed_at: time(row.failedAt),
  };
}

export function entryView(row: EntryRow) {
  return {
    id: row.id,
    object: 'entry' as const,
    account_id: row.accountId,
    transfer_id: row.transferId,
    amount: money(row.amount),
    balance_after: money(row.balanceAfter),
    created_at: row.createdAt.toISOString(),
  };
}

export type AccountView = ReturnType<typeof accountView>;
export type TransferView = ReturnType<typeof transferView>;
export type EntryView = ReturnType<typeof entryView>;
