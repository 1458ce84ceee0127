import { describe, expect, it } from 'vitest';
import { findChain, groupByDate, orderAccount } from '../../src/demo/chain.js';
import { credit, debit } from './fixtures.js';

const ids = (movements: readonly { transId: string }[]) => movements.map((m) => m.transId);

describe('orderAccount', () => {
  it('recovers the real order of a day from the balance chain', () => {
    const deposit = credit(100_000, 100_000, { transId: 'deposit', date: '1993-01-01' });
    // The file lists the day's withdrawal before the credit that funded it.
    const withdrawal = debit(30_000, 120_000, { transId: 'withdrawal', date: '1993-01-31' });
    const interest = credit(50_000, 150_000, { transId: 'pension', date: '1993-01-31' });

    const ordered = orderAccount([deposit, withdrawal, interest]);

    expect(ids(ordered.movements)).toEqual(['deposit', 'pension', 'withdrawal']);
    expect(ordered.fallbackDays).toEqual([]);
    expect(ordered.roundedLinks).toBe(0);
  });

  it("accepts a chain whose printed balance is off by the bank's 0.10 CZK rounding", () => {
    const opening = credit(7_110_770, 7_110_770, { transId: 'opening', date: '1993-02-01' });
    // 71107.70 + 344.80 is 71452.50, but the bank printed 71452.40.
    const interest = credit(34_480, 7_145_240, { transId: 'interest', date: '1993-02-28' });
    const fee = debit(1_460, 7_143_780, { transId: 'fee', date: '1993-02-28' });

    const ordered = orderAccount([opening, fee, interest]);

    expect(ids(ordered.movements)).toEqual(['opening', 'interest', 'fee']);
    expect(ordered.roundedLinks).toBe(1);
    expect(ordered.fallbackDays).toEqual([]);
  });

  it('does not stretch the tolerance beyond 0.10 CZK', () => {
    const first = credit(10_000, 10_000, { transId: 'a', date: '1993-01-01' });
    const off = credit(5_000, 15_011, { transId: 'b', date: '1993-01-02' });

    expect(orderAccount([first, off]).fallbackDays).toEqual(['1993-01-02']);
  });

  it('keeps file order for a day no chain fits, then infers the next opening anew', () => {
    const first = credit(10_000, 10_000, { transId: 'a', date: '1993-01-01' });
    const broken1 = debit(1_000, 55_555, { transId: 'b', date: '1993-01-02' });
    const broken2 = credit(2_000, 77_777, { transId: 'c', date: '1993-01-02' });
    // Day three chains among itself, though not onto the broken day before it.
    const next1 = debit(500, 99_500, { transId: 'e', date: '1993-01-03' });
    const next2 = credit(100_000, 100_000, { transId: 'd', date: '1993-01-03' });

    const ordered = orderAccount([first, broken1, broken2, next1, next2]);

    expect(ids(ordered.movements)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(ordered.fallbackDays).toEqual(['1993-01-02']);
  });

  it('orders days by date even when the file does not', () => {
    const later = credit(100, 300, { transId: 'later', date: '1993-03-01' });
    const earlier = credit(200, 200, { transId: 'earlier', date: '1993-02-01' });

    expect(ids(orderAccount([later, earlier]).movements)).toEqual(['earlier', 'later']);
  });

  it('lets any movement open the first day, whose opening balance is not in the file', () => {
    // An account with 500.00 before the file starts.
    const withdrawal = debit(20_000, 30_000, { transId: 'w', date: '1993-01-05' });
    const deposit = credit(10_000, 60_000, { transId: 'd', date: '1993-01-05' });

    expect(ids(orderAccount([deposit, withdrawal]).movements)).toEqual(['d', 'w']);
  });
});

describe('findChain', () => {
  it('prefers file order when the tolerance lets several chains fit', () => {
    const a = credit(5, 105, { transId: 'a' });
    const b = credit(5, 110, { transId: 'b' });

    expect(ids(findChain([a, b], 100) ?? [])).toEqual(['a', 'b']);
    expect(ids(findChain([b, a], 100) ?? [])).toEqual(['b', 'a']);
  });

  it('finds the chain among same-day movements from a known opening balance', () => {
    const day = [debit(500, 1_500, { transId: 'x' }), credit(1_000, 2_000, { transId: 'y' })];

    expect(ids(findChain(day, 1_000) ?? [])).toEqual(['y', 'x']);
    expect(findChain(day, 5_000)).toBeUndefined();
  });
});

describe('groupByDate', () => {
  it('groups by date, dates ascending, file order within a date', () => {
    const a = credit(1, 1, { transId: 'a', date: '1993-01-02' });
    const b = credit(1, 1, { transId: 'b', date: '1993-01-01' });
    const c = credit(1, 1, { transId: 'c', date: '1993-01-02' });

    expect(groupByDate([a, b, c]).map(ids)).toEqual([['b'], ['a', 'c']]);
  });
});
