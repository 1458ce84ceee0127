import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../../src/bench/args.js';
import { planFor } from '../../src/bench/plan.js';

describe('benchmark command line', () => {
  it('takes settings to try instead of the defaults', () => {
    const options = parseBenchArgs(['--set', 'APPLY_IDLE_MS=0', '--set', 'ACCEPT_STATEMENTS=2']);
    expect(options.settings).toEqual({ APPLY_IDLE_MS: '0', ACCEPT_STATEMENTS: '2' });
    expect(parseBenchArgs([]).settings).toEqual({});
  });

  it('refuses a setting that is not NAME=VALUE, or one the benchmark chooses itself', () => {
    expect(() => parseBenchArgs(['--set', 'APPLY_IDLE_MS'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--set', 'apply_idle_ms=0'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--set', 'DATABASE_URL=postgres://elsewhere/db'])).toThrow(
      'the benchmark sets DATABASE_URL',
    );
  });

  it("seeds the number of accounts asked for, or else the plan's", () => {
    expect(planFor(parseBenchArgs(['--accounts', '100000'])).accounts).toBe(100_000);
    expect(planFor(parseBenchArgs(['--quick', '--accounts', '5000'])).accounts).toBe(5_000);
    expect(planFor(parseBenchArgs([])).accounts).toBe(100_000);
    expect(planFor(parseBenchArgs(['--quick'])).accounts).toBe(100);
    for (const bad of ['0', '2.5', 'many', '1000001']) {
      expect(() => parseBenchArgs(['--accounts', bad])).toThrow('--accounts: a whole number');
    }
  });

  it('refuses unknown options and missing or odd values in one line, not a stack trace', () => {
    const refusals: [string[], string][] = [
      [['--bogus'], "Unknown option '--bogus'"],
      [['--accounts'], "Option '--accounts <value>' argument missing"],
      [['--accounts', '-5'], 'ambiguous'],
      [['--accounts', '1e3'], '--accounts: a whole number'],
      [['--web', '0x2'], '--web: a whole number'],
    ];
    for (const [argv, message] of refusals) {
      let refused: unknown;
      try {
        parseBenchArgs(argv);
      } catch (error) {
        refused = error;
      }
      expect(refused, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((refused as Error).message, argv.join(' ')).toContain(message);
      expect((refused as Error).message).not.toContain('\n');
    }
  });
});
