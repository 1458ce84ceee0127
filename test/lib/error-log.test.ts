import { describe, expect, it, vi } from 'vitest';
import { ERROR_LOG_INTERVAL_MS, errorLog } from '../../src/lib/error-log.js';
import { captureLogger } from '../worker/fixtures.js';

describe('errorLog', () => {
  it('logs a line per interval with the count since, and starts over after a quiet one', () => {
    vi.useFakeTimers();
    try {
      const { logger, records } = captureLogger();
      const errors = errorLog(logger, { source: 'test' }, 'test error');
      for (let n = 0; n < 5; n++) errors.report(new Error(`e${n}`));
      vi.advanceTimersByTime(ERROR_LOG_INTERVAL_MS - 1_000);
      const repeated = new Error('seen by two listeners');
      errors.report(repeated);
      errors.report(repeated);
      vi.advanceTimersByTime(1_001);
      errors.report(new Error('the outage goes on'));
      vi.advanceTimersByTime(ERROR_LOG_INTERVAL_MS * 2);
      errors.report(new Error('a new outage'));
      expect(records.map((record) => [record.msg, record.source, record.errors])).toEqual([
        ['test error', 'test', 1],
        ['test error', 'test', 6],
        ['test error', 'test', 1],
      ]);
      expect(errors.reset()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
