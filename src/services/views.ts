/**
 * The public shapes of resources, built from data-layer rows. Money leaves
 * as a JSON integer: amounts are capped at 2^53-1 on the way in, and a
 * balance beyond that range is refused rather than silently rounded.
 */

export interface AccountRow {
  id: string;
  tenantId: string;
  currency: string;
  balance: bigint;
  overdraftLimit: bigint;
  reference: string | null;
  metadata: Record<string, unknown>;
  version: bigint;
  createdAt: Date;
  closedAt: Date | null;
}

export type FailureCode = 'insufficient_funds' | 'account_closed' | 'balance_limit_exceeded';

/** The largest balance an account may hold: the largest integer JSON carries exactly. */
export const MAX_BALANCE = BigInt(Number.MAX_SAFE_INTEGER);

export interface TransferRow {
  id: string;
  tenantId: string;
  sourceAccountId: string;
  destinationAccountId: string;
  partition: number;
  amount: bigint;
  currency: string;
  description: string | null;
  metadata: Record<string, unknown>;
  status: 'pending' | 'posted' | 'failed';
  failureCode: FailureCode | null;
  attempt: number;
  previousAttemptId: string | null;
  createdAt: Date;
  postedAt: Date | null;
  failedAt: Date | null;
}

export interface EntryRow {
  id: string;
  accountId: string;
  transferId: string;
  amount: bigint;
  balanceAfter: bigint;
  createdAt: Date;
}

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
