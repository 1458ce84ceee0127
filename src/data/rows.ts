/**
 * The rows the data layer reads, with columns in camelCase and money as
 * bigint. Services decide with them; src/services/views.ts turns them into
 * the public shapes.
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
