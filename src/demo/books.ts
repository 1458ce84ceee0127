import type { Movement } from './berka.js';

/**
 * The bank's own books, one ledger account each, standing in for the side
 * of every movement that lies outside the data set. Each has an unlimited
 * overdraft (2^53-1 hellers), as the bank itself can always pay.
 *
 * | book          | takes movements with                                          |
 * | ------------- | ------------------------------------------------------------- |
 * | `interest`    | k_symbol `UROK` (interest paid) or `SANKC. UROK` (penalty)    |
 * | `fees`        | k_symbol `SLUZBY` (statement fee)                             |
 * | `loans`       | k_symbol `UVER` (loan instalment)                             |
 * | `cash`        | operation `VKLAD`, `VYBER` or `VYBER KARTOU`                  |
 * | `other-banks` | operation `PREVOD Z UCTU` or `PREVOD NA UCET`                 |
 * | `clearing`    | anything else                                                 |
 *
 * The purpose (k_symbol) wins over the channel (operation): a fee is taken
 * with operation `VYBER` in the data, yet it is the bank's income, not cash.
 */
export const BOOKS = ['cash', 'other-banks', 'interest', 'fees', 'loans', 'clearing'] as const;
export type Book = (typeof BOOKS)[number];

export const UNLIMITED_OVERDRAFT = Number.MAX_SAFE_INTEGER;

const BOOK_BY_PURPOSE: Record<string, Book> = {
  UROK: 'interest',
  'SANKC. UROK': 'interest',
  SLUZBY: 'fees',
  UVER: 'loans',
};

const BOOK_BY_OPERATION: Record<string, Book> = {
  VKLAD: 'cash',
  VYBER: 'cash',
  'VYBER KARTOU': 'cash',
  'PREVOD Z UCTU': 'other-banks',
  'PREVOD NA UCET': 'other-banks',
};

const LABELS: Record<string, string> = {
  UROK: 'interest',
  'SANKC. UROK': 'penalty interest',
  SLUZBY: 'statement fee',
  UVER: 'loan instalment',
  SIPO: 'household bills',
  DUCHOD: 'pension',
  POJISTNE: 'insurance',
  VKLAD: 'cash deposit',
  VYBER: 'cash withdrawal',
  'VYBER KARTOU': 'card withdrawal',
  'PREVOD Z UCTU': 'transfer from another bank',
  'PREVOD NA UCET': 'transfer to another bank',
};

export function bookOf(movement: Pick<Movement, 'kSymbol' | 'operation'>): Book {
  return BOOK_BY_PURPOSE[movement.kSymbol] ?? BOOK_BY_OPERATION[movement.operation] ?? 'clearing';
}

export function bookReference(book: Book): string {
  return `bank-${book}`;
}

export function customerReference(accountId: string): string {
  return `berka-${accountId}`;
}

/**
 * A short English description: the bank's purpose when the money is the
 * bank's own ("statement fee"), else the channel and, if known, the purpose
 * ("transfer to another bank: pension").
 */
export function describe(movement: Pick<Movement, 'kSymbol' | 'operation' | 'type'>): string {
  const purpose = LABELS[movement.kSymbol];
  if (purpose && BOOK_BY_PURPOSE[movement.kSymbol]) return purpose;
  const channel = LABELS[movement.operation];
  if (channel) return purpose ? `${channel}: ${purpose}` : channel;
  return purpose ?? movement.type.toLowerCase();
}
