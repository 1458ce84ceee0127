import { describe, expect, it } from 'vitest';
import { AppError, isTransientError } from '../../src/lib/errors.js';

describe('telling outages from bugs', () => {
  it('treats conflicts, lost connections and ended sessions as outages', () => {
    const sqlStates = ['40001', '40P01', '25P03', '57P01', '53300', '08001', '08004', '08006'];
    for (const code of sqlStates) {
      expect(isTransientError(Object.assign(new Error('from PostgreSQL'), { code }))).toBe(true);
    }
    expect(isTransientError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError(new AppError('unavailable', 'down', { retryable: true }))).toBe(true);
  });

  it('treats constraint violations and plain errors as bugs', () => {
    expect(isTransientError(Object.assign(new Error('check'), { code: '23514' }))).toBe(false);
    expect(isTransientError(Object.assign(new Error('raised'), { code: 'XX000' }))).toBe(false);
    expect(isTransientError(new Error('undefined is not a function'))).toBe(false);
  });
});
