import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type ApplySessionsRun,
  measureApplySessions,
  ratios,
} from '../../src/bench/apply-sessions.js';
import { TEST_DATABASE_URL } from '../support/env.js';

describe('npm run bench:apply-sessions', () => {
  it('applies each backlog in full with one and two sessions; the ledger reconciles', async () => {
    const name = `fintech_core_test_apply_${randomBytes(4).toString('hex')}`;
    const seen: ApplySessionsRun[] = [];
    const runs = await measureApplySessions(
      {
        databaseUrl: TEST_DATABASE_URL.replace(/\/[^/]+$/, `/${name}`),
        transfers: 400,
        accounts: 40,
        rounds: 1,
      },
      (run) => seen.push(run),
    );
    expect(seen).toEqual(runs);
    expect(runs.map((run) => [run.sharing, run.sessions, run.settled, run.reconciled])).toEqual([
      ['disjoint', 1, 400, true],
      ['disjoint', 2, 400, true],
      ['shared', 1, 400, true],
      ['shared', 2, 400, true],
    ]);
    for (const run of runs) expect(run.perSecond).toBeGreaterThan(0);
    expect(ratios(runs).map((ratio) => ratio.sharing)).toEqual(['disjoint', 'shared']);
  }, 60_000);

  it('refuses an unknown option or a count out of range with exit 2', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    for (const [args, says] of [
      [['--transfer', '5'], "Unknown option '--transfer'"],
      [['--rounds', '0'], '--rounds: a whole number from 1 to 10'],
    ] as const) {
      const failed = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'src/bench/apply-sessions.ts', ...args],
        { cwd: root },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect([args, failed.code]).toEqual([args, 2]);
      expect(failed.stderr).toContain(says);
    }
  });
});
