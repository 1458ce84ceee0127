import type { Check } from './checks.js';
import { formatCzk } from './hellers.js';
import type { ReplayPlan } from './plan.js';
import { percentile, type ReplayStats } from './replay-stats.js';

const MAX_ANOMALIES_SHOWN = 10;

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function reportInput(plan: ReplayPlan, transactionsPath: string): void {
  const active = plan.customers.filter((customer) => customer.movements.length > 0);
  const overdrawn = plan.customers.filter((customer) => customer.overdraftLimit > 0);
  const largest = Math.max(0, ...overdrawn.map((customer) => customer.overdraftLimit));
  say(`Input: ${transactionsPath}`);
  say(
    `  ${plan.movements} movements on ${active.length} accounts (${plan.customers.length} ` +
      `accounts in all, ${plan.unlistedAccounts} not in the accounts file)`,
  );
  say(
    `  ${plan.duplicateLines} duplicate trans_id lines and ` +
      `${plan.zeroAmounts} zero amounts skipped`,
  );
  say(
    `  same-day order from the balance chain: ${plan.roundedLinks} links within the bank's ` +
      `0.10 CZK rounding, ${plan.fallbackDays} days left in file order`,
  );
  say(`  ${overdrawn.length} accounts need an overdraft (largest ${formatCzk(largest)} CZK)`);
}

export function reportReplay(stats: ReplayStats, concurrency: number, peakInFlight: number) {
  const { retries } = stats;
  say(`Replay: ${concurrency} accounts at a time, one movement each until it settles`);
  say(`  accepted ${stats.accepted}, not accepted ${stats.rejected}`);
  say(`  posted ${stats.posted}, failed ${stats.failed}, never settled ${stats.unsettled}`);
  say(
    `  replays confirmed ${stats.replays.confirmed}/${stats.replays.sent} ` +
      `(Idempotent-Replayed: true, same transfer id), raced duplicates ` +
      `${stats.races.confirmed}/${stats.races.sent}, 422 idempotency_key_reused ` +
      `${stats.reusedKeys.confirmed}/${stats.reusedKeys.sent}`,
  );
  say(
    `  retries: 409 in flight ${retries.inFlight}, 503 ${retries.unavailable}, ` +
      `no answer ${retries.network}; peak requests in flight ${peakInFlight}`,
  );
  reportRates(stats);
  reportLatency('POST sent to 202 received, measured by the client', stats.acceptLatencies);
  reportLatency(
    'accept to posted, created_at to posted_at as the API reports them',
    stats.serverLatencies,
  );
  reportLatency(
    '202 received to final status received, measured by the client',
    stats.clientLatencies,
  );
}

/**
 * Rates over the whole replay. The client waits for each movement to settle
 * before sending the account's next one, so they are bounded by latency
 * times concurrency, not only by what the server could take.
 */
function reportRates(stats: ReplayStats): void {
  const acceptSeconds = (stats.lastAcceptedAt - stats.startedAt) / 1000;
  const settleSeconds = (stats.lastSettledAt - stats.startedAt) / 1000;
  const settled = stats.posted + stats.failed;
  say(
    `  throughput: ${rate(stats.accepted, acceptSeconds)} accepted/s ` +
      `(${stats.accepted} in ${acceptSeconds.toFixed(1)} s), ${rate(settled, settleSeconds)} ` +
      `settled/s (${settled} in ${settleSeconds.toFixed(1)} s)`,
  );
}

function reportLatency(what: string, values: readonly number[]): void {
  const p50 = percentile(values, 50);
  const p99 = percentile(values, 99);
  const max = percentile(values, 100);
  say(`  latency p50 ${p50} ms, p99 ${p99} ms, max ${max} ms: ${what}`);
}

function rate(count: number, seconds: number): string {
  return seconds > 0 ? (count / seconds).toFixed(1) : 'n/a';
}

export function reportChecks(checks: readonly Check[]): void {
  say('Reconciliation');
  for (const check of checks) {
    say(`  ${check.pass ? 'PASS' : 'FAIL'}  ${check.name}`);
    say(`        ${check.detail}`);
  }
}

export function reportAnomalies(anomalies: readonly string[]): void {
  if (anomalies.length === 0) return;
  say(`Unexpected answers (${anomalies.length}, first ${MAX_ANOMALIES_SHOWN} shown)`);
  for (const anomaly of anomalies.slice(0, MAX_ANOMALIES_SHOWN)) say(`  ${anomaly}`);
}
