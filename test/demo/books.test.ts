import { describe, expect, it } from 'vitest';
import { bookOf, describe as describeMovement } from '../../src/demo/books.js';

describe('bookOf', () => {
  it("sends the bank's own income and costs to their books, whatever the channel", () => {
    expect(bookOf({ kSymbol: 'SLUZBY', operation: 'VYBER' })).toBe('fees');
    expect(bookOf({ kSymbol: 'UROK', operation: '' })).toBe('interest');
    expect(bookOf({ kSymbol: 'SANKC. UROK', operation: 'VYBER' })).toBe('interest');
    expect(bookOf({ kSymbol: 'UVER', operation: 'PREVOD NA UCET' })).toBe('loans');
  });

  it("sends cash and other banks' transfers by their channel", () => {
    expect(bookOf({ kSymbol: '', operation: 'VKLAD' })).toBe('cash');
    expect(bookOf({ kSymbol: 'SIPO', operation: 'VYBER' })).toBe('cash');
    expect(bookOf({ kSymbol: '', operation: 'VYBER KARTOU' })).toBe('cash');
    expect(bookOf({ kSymbol: 'DUCHOD', operation: 'PREVOD Z UCTU' })).toBe('other-banks');
    expect(bookOf({ kSymbol: 'POJISTNE', operation: 'PREVOD NA UCET' })).toBe('other-banks');
  });

  it('sends anything else to clearing', () => {
    expect(bookOf({ kSymbol: '', operation: '' })).toBe('clearing');
  });
});

describe('describe', () => {
  it('says what a movement was in English', () => {
    expect(describeMovement({ kSymbol: 'SLUZBY', operation: 'VYBER', type: 'VYDAJ' })).toBe(
      'statement fee',
    );
    expect(
      describeMovement({ kSymbol: 'DUCHOD', operation: 'PREVOD Z UCTU', type: 'PRIJEM' }),
    ).toBe('transfer from another bank: pension');
    expect(describeMovement({ kSymbol: '', operation: 'VKLAD', type: 'PRIJEM' })).toBe(
      'cash deposit',
    );
    expect(describeMovement({ kSymbol: '', operation: '', type: 'PRIJEM' })).toBe('prijem');
  });
});
