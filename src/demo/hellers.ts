import { FormatError } from './delimited.js';

const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

/**
 * Converts a CZK amount as the bank prints it ("700.00", "-2892.5", "14")
 * into integer hellers by reading the digits, never through a floating-point
 * value, so 0.1 + 0.2 problems cannot arise. More than two decimals, a
 * thousands separator or a value beyond 2^53-1 hellers is refused.
 */
export function parseHellers(text: string): number {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new FormatError(`not an amount with at most two decimals: "${text}"`);
  const [, sign = '', whole = '', fraction = ''] = match;

  const digits = `${whole}${fraction.padEnd(2, '0')}`.replace(/^0+(?=\d)/, '');
  const magnitude = Number(digits);
  if (!Number.isSafeInteger(magnitude)) throw new FormatError(`amount too large: "${text}"`);
  return sign === '-' && magnitude !== 0 ? -magnitude : magnitude;
}

/** Hellers as CZK with two decimals, for people: -289200 -> "-2892.00". */
export function formatCzk(hellers: number): string {
  const sign = hellers < 0 ? '-' : '';
  const digits = String(Math.abs(hellers)).padStart(3, '0');
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** Adds integer hellers, refusing a sum that a JSON number could not carry exactly. */
export function addHellers(a: number, b: number): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new RangeError(`sum beyond 2^53-1 hellers: ${a} + ${b}`);
  return sum;
}
