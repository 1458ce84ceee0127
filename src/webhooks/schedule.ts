/** How much a retry delay varies either way, so that retries of many deliveries spread out. */
const JITTER = 0.1;

export interface RetryPolicy {
  /** Delay before each attempt, the first one included (counted from the previous). */
  scheduleMs: readonly number[];
  /** The longest delay a receiver's Retry-After can ask for. */
  retryAfterMaxMs: number;
}

/**
 * The delay before the attempt after `attemptsMade` failed ones, or undefined
 * when the schedule is used up. The scheduled delay varies by up to 10 %
 * either way. A receiver's Retry-After is honoured by never retrying before
 * it: the delay is the later of the two, and Retry-After is capped.
 */
export function nextRetryDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  const scheduled = policy.scheduleMs[attemptsMade];
  if (scheduled === undefined) return undefined;
  const jittered = Math.round(scheduled * (1 + JITTER * (2 * random() - 1)));
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.retryAfterMaxMs));
}

/** The delay before the first attempt of a new delivery. */
export function firstAttemptDelayMs(policy: RetryPolicy): number {
  return nextRetryDelayMs(policy, 0, undefined) ?? 0;
}

/**
 * A Retry-After header in milliseconds: delay-seconds or an HTTP date.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
