import { randomBytes } from 'node:crypto';
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
});
