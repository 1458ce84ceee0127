import type { Logger } from '../logger.js';

export interface StopOptions {
  /** The process's name in log lines: `worker`, `webhooks`, `web`. */
  name: string;
  logger: Logger;
  /** A stop that takes longer exits with code 1. */
  timeoutMs: number;
  /** Finishes the work in hand and closes every pool; the process then exits by itself. */
  stop: () => Promise<void>;
}

/**
 * Stops the process gracefully on SIGTERM or SIGINT. The exit code is set,
 * never forced, so that pending log lines and sockets close in order. A
 * second signal, or a stop that outlasts `timeoutMs`, exits at once, which
 * every process here tolerates: an unfinished transaction rolls back and an
 * unfinished job runs again.
 */
export function stopOnSignals(options: StopOptions): void {
  const { name, logger } = options;
  let stopping = false;

  const onSignal = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, `second signal: ${name} exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `${name} stopping`);
    setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, `${name} shutdown timed out: exiting now`);
      process.exit(1);
    }, options.timeoutMs).unref();

    try {
      await options.stop();
      logger.info(`${name} stopped`);
      process.exitCode = 0;
    } catch (error) {
      logger.error({ err: error }, `${name} did not stop cleanly`);
      process.exitCode = 1;
    }
  };
  process.on('SIGTERM', (signal) => void onSignal(signal));
  process.on('SIGINT', (signal) => void onSignal(signal));
}

/**
 * Until the returned function is called, SIGTERM or SIGINT exits at once with
 * code 0 and a log line: for a process still starting (waiting for Redis,
 * say), which has taken no work yet and has nothing to finish.
 */
export function exitOnSignalsUntilStarted(name: string, logger: Logger): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, `${name} stopped before it started`);
    process.exit(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
