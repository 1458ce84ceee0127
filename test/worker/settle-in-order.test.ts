import { describe, expect, it } from 'vitest';
import type { LedgerAccount, PendingTransfer } from '../../src/data/ledger.js';
import { settleInOrder } from '../../src/services/apply-transfers.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

function account(id: string, balance: bigint, overdraftLimit = 0n): LedgerAccount {
  return { id, tenantId: 'ten_1', currency: 'EUR', balance, overdraftLimit, closedAt: null };
}

function transfer(
  id: string,
  source: string,
  destination: string,
  amount: bigint,
): PendingTransfer {
  return {
    id,
    tenantId: 'ten_1',
    sourceAccountId: source,
    destinationAccountId: destination,
    amount,
    currency: 'EUR',
  };
}

describe('deciding a batch', () => {
  it('fails a credit that would take a balance past 2^53-1, and posts the rest', () => {
    const settlement = settleInOrder(
      [
        transfer('tr_1', 'a', 'sink', MAX),
        transfer('tr_2', 'b', 'sink', 1n),
        transfer('tr_3', 'b', 'c', 1n),
      ],
      [account('a', 0n, MAX), account('b', 0n, MAX), account('c', 0n), account('sink', 0n)],
    );
    expect(settlement.outcomes.map((outcome) => outcome.failureCode ?? outcome.status)).toEqual([
      'posted',
      'balance_limit_exceeded',
      'posted',
    ]);
    const sink = settlement.balances.find((line) => line.accountId === 'sink');
    expect(sink?.balance).toBe(MAX);
  });

  it('posts a debit to exactly -overdraft_limit and fails one unit beyond', () => {
    const settlement = settleInOrder(
      [transfer('tr_1', 'a', 'b', 100n), transfer('tr_2', 'a', 'b', 1n)],
      [account('a', 0n, 100n), account('b', 0n)],
    );
    expect(settlement.outcomes.map((outcome) => outcome.failureCode ?? outcome.status)).toEqual([
      'posted',
      'insufficient_funds',
    ]);
    expect(settlement.entries.map((entry) => entry.amount)).toEqual([-100n, 100n]);
  });
});

describe('deferring the transfers whose accounts another transaction holds', () => {
  it('defers them and every later transfer of their sources, and decides the rest', () => {
    // 'held' is missing from the locked accounts. tr_3 comes after a
    // deferred transfer of its source and would fail if it overtook it: a
    // has 10, and tr_1 is to leave it 0.
    const settlement = settleInOrder(
      [
        transfer('tr_1', 'a', 'held', 10n),
        transfer('tr_2', 'b', 'c', 5n),
        transfer('tr_3', 'a', 'c', 1n),
        transfer('tr_4', 'c', 'held', 1n),
        transfer('tr_5', 'b', 'a', 1n),
      ],
      [account('a', 10n), account('b', 10n), account('c', 0n)],
    );
    expect(settlement.deferred.map((transfer) => transfer.id)).toEqual(['tr_1', 'tr_3', 'tr_4']);
    expect(settlement.outcomes.map((outcome) => [outcome.transferId, outcome.status])).toEqual([
      ['tr_2', 'posted'],
      ['tr_5', 'posted'],
    ]);
    const balances = Object.fromEntries(settlement.balances.map((l) => [l.accountId, l.balance]));
    expect(balances).toEqual({ a: 11n, b: 4n, c: 5n });
  });

  it("defers a later debit of a deferred transfer's destination, which awaits its credit", () => {
    // b has nothing until tr_2 credits it; tr_1 holds a back, and with it
    // tr_2. Decided without that credit, tr_3 would fail for good.
    const settlement = settleInOrder(
      [
        transfer('tr_1', 'a', 'held', 1n),
        transfer('tr_2', 'a', 'b', 10n),
        transfer('tr_3', 'b', 'c', 10n),
        transfer('tr_4', 'd', 'a', 1n),
      ],
      [account('a', 20n), account('b', 0n), account('c', 5n), account('d', 5n)],
    );
    expect(settlement.deferred.map((transfer) => transfer.id)).toEqual(['tr_1', 'tr_2', 'tr_3']);
    expect(settlement.outcomes.map((outcome) => [outcome.transferId, outcome.status])).toEqual([
      ['tr_4', 'posted'],
    ]);
  });

  it('throws when an account it waited for is missing: the account does not exist', () => {
    expect(() =>
      settleInOrder([transfer('tr_1', 'a', 'gone', 1n)], [account('a', 10n)], new Set(['gone'])),
    ).toThrow(/gone, which does not exist/);
  });
});
