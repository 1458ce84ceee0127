import type { Logger } from '../logger.js';

/** While errors go on (Redis away, say), a source logs at most one line this often. */
export const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * Logs errors at `warn` under `msg` with `fields`: the first at once, then at
 * most one line every ERROR_LOG_INTERVAL_MS with the number of errors since
 * (`errors`), so that an outage retried every second or so logs a few lines,
 * not thousands. An error after a quiet ERROR_LOG_INTERVAL_MS starts a new
 * outage, as `reset` does; `reset` also answers how many errors were seen.
 * Errors already logged elsewhere are skipped (see `firstReport`).
 */
export function errorLog(
  log: Logger,
  fields: Record<string, unknown>,
  msg: string,
): { report: (error: unknown) => void; reset: () => number } {
  let seen = 0;
  let unlogged = 0;
  let lastLine = Number.NEGATIVE_INFINITY;
  let lastError = Number.NEGATIVE_INFINITY;
  return {
    report(error: unknown) {
      if (!firstReport(error)) return;
      if (Date.now() - lastError > ERROR_LOG_INTERVAL_MS) {
        seen = 0;
        unlogged = 0;
      }
      lastError = Date.now();
      seen += 1;
      unlogged += 1;
      if (Date.now() - lastLine < ERROR_LOG_INTERVAL_MS) return;
      log.warn({ err: error, ...fields, errors: unlogged }, msg);
      lastLine = Date.now();
      unlogged = 0;
    },
    reset() {
      const count = seen;
      seen = 0;
      unlogged = 0;
      lastLine = Number.NEGATIVE_INFINITY;
      return count;
    },
  };
}

/** Errors already logged, so that one seen by several listeners is logged once. */
const reported = new WeakSet<object>();

/**
 * Whether `error` is reported here for the first time. A Redis connection's
 * error reaches its own listener and every BullMQ queue built on it; the
 * first to see it logs it, and the others keep quiet.
 */
export function firstReport(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  if (reported.has(error)) return false;
  reported.add(error);
  return true;
}
