import { describe, expect, it } from 'vitest';
import { addHellers, formatCzk, parseHellers } from '../../src/demo/hellers.js';

describe('parseHellers', () => {
  it('reads CZK with two decimals as integer hellers', () => {
    expect(parseHellers('700.00')).toBe(70_000);
    expect(parseHellers('14.60')).toBe(1_460);
    expect(parseHellers('0.07')).toBe(7);
  });

  it('gets right the amounts that floating point gets wrong', () => {
    // 1.15 * 100 is 114.99999999999999 and 0.29 * 100 is 28.999999999999996 in binary floats.
    expect(parseHellers('1.15')).toBe(115);
    expect(parseHellers('0.29')).toBe(29);
    expect(parseHellers('4563.20')).toBe(456_320);
    expect(parseHellers('0.10') + parseHellers('0.20')).toBe(30);
  });

  it('reads one decimal, none, and negative balances', () => {
    expect(parseHellers('14.6')).toBe(1_460);
    expect(parseHellers('5')).toBe(500);
    expect(parseHellers('-2892.00')).toBe(-289_200);
    expect(parseHellers('-0.50')).toBe(-50);
    expect(Object.is(parseHellers('-0.00'), 0)).toBe(true);
  });

  it('reads large amounts exactly', () => {
    expect(parseHellers('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses anything that is not a plain amount with at most two decimals', () => {
    for (const text of ['', '1.234', '1,00', '1 000.00', 'abc', '.50', '1.', '+5', '1e3']) {
      expect(() => parseHellers(text), text).toThrow(/not an amount/);
    }
  });

  it('refuses an amount beyond 2^53-1 hellers', () => {
    expect(() => parseHellers('90071992547409.92')).toThrow(/too large/);
  });
});

describe('formatCzk', () => {
  it('prints hellers as CZK with two decimals', () => {
    expect(formatCzk(70_000)).toBe('700.00');
    expect(formatCzk(7)).toBe('0.07');
    expect(formatCzk(0)).toBe('0.00');
    expect(formatCzk(-289_250)).toBe('-2892.50');
  });
});

describe('addHellers', () => {
  it('adds exactly and refuses a sum beyond 2^53-1', () => {
    expect(addHellers(115, -29)).toBe(86);
    expect(() => addHellers(Number.MAX_SAFE_INTEGER, 1)).toThrow(RangeError);
  });
});
