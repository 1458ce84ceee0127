import { describe, expect, it } from 'vitest';
import type { BankAccount } from '../../src/demo/berka.js';
import { buildPlan, overdraftNeeded } from '../../src/demo/plan.js';
import { credit, debit } from './fixtures.js';

const account = (accountId: string): BankAccount => ({
  accountId,
  districtId: '55',
  frequency: 'POPLATEK MESICNE',
  opened: '1993-01-01',
});

describe('overdraftNeeded', () => {
  it('is zero for an account that never goes below zero', () => {
    expect(overdraftNeeded([credit(10_000, 10_000), debit(10_000, 0)])).toBe(0);
    expect(overdraftNeeded([])).toBe(0);
  });

  it('is the depth of the lowest running balance', () => {
    const movements = [credit(10_000, 10_000), debit(25_000, -15_000), credit(3_000, -12_000)];

    expect(overdraftNeeded(movements)).toBe(15_000);
  });

  it('follows the running sum of amounts, not the printed balances', () => {
    // The printed balance says -100.10; the amounts say -100.00.
    expect(overdraftNeeded([debit(10_000, -10_010)])).toBe(10_000);
  });

  it('depends on order: the real order can need less than the file order', () => {
    const deposit = credit(50_000, 50_000);
    const withdrawal = debit(30_000, 20_000);

    expect(overdraftNeeded([deposit, withdrawal])).toBe(0);
    expect(overdraftNeeded([withdrawal, deposit])).toBe(30_000);
  });
});

describe('buildPlan', () => {
  it('orders each account, sizes its overdraft, and expects every balance', () => {
    const movements = [
      credit(50_000, 50_000, { accountId: '1', date: '1993-01-01' }),
      debit(80_000, -29_000, { accountId: '1', date: '1993-01-31' }),
      credit(1_000, 51_000, { accountId: '1', date: '1993-01-31', operation: '', kSymbol: 'UROK' }),
      credit(20_000, 20_000, { accountId: '2', operation: 'PREVOD Z UCTU' }),
    ];

    const plan = buildPlan([account('1'), account('2'), account('3')], movements);

    const [one, two, three] = plan.customers;
    expect(one).toMatchObject({
      reference: 'berka-1',
      overdraftLimit: 29_000,
      expectedBalance: -29_000,
    });
    expect(one?.movements.map((m) => m.amount)).toEqual([50_000, 1_000, 80_000]);
    expect(two).toMatchObject({ overdraftLimit: 0, expectedBalance: 20_000 });
    expect(three).toMatchObject({ movements: [], overdraftLimit: 0, expectedBalance: 0 });
    const books = Object.fromEntries(plan.books.map((b) => [b.book, b.expectedBalance]));
    expect(books).toMatchObject({ cash: 30_000, interest: -1_000, 'other-banks': -20_000 });
    const total = [...plan.customers, ...plan.books].reduce((sum, a) => sum + a.expectedBalance, 0);
    expect(total).toBe(0);
    expect(plan.movements).toBe(4);
  });

  it('replays a repeated trans_id once and skips zero amounts', () => {
    const first = credit(100, 100, { transId: '7', accountId: '1' });
    const again = credit(100, 100, { transId: '7', accountId: '1' });
    const zero = credit(0, 100, { transId: '8', accountId: '1', date: '1993-01-06' });

    const plan = buildPlan([account('1')], [first, again, zero]);

    expect(plan).toMatchObject({ movements: 1, duplicateLines: 1, zeroAmounts: 1 });
    expect(plan.customers[0]?.expectedBalance).toBe(100);
  });

  it('opens an account that has movements but no line in the accounts file', () => {
    const plan = buildPlan([], [credit(100, 100, { accountId: '42' })]);

    expect(plan.unlistedAccounts).toBe(1);
    expect(plan.customers.map((c) => c.reference)).toEqual(['berka-42']);
  });
});
